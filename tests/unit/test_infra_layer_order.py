"""`deploy_stack` attaches a function's layers in the order of its `function.toml` `layers` list.

Order is behaviour on Lambda: layers are extracted into /opt in that order, a later one overwriting
an earlier one's files. Checked here under layersmith's Pulumi mocks with tiny fake builds (no PyPI),
for several layers and two functions whose lists order the same layers differently.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from helpers import deadline
from test_infra_s3 import _build, _inputs

from layersmith.infra.preview import _Recorder, run_under_mocks
from layersmith.infra.stack import deploy_stack
from layersmith.model import FunctionSpec, LayerSpec, Variant

FN = "aws:lambda/function:Function"
# Neither sorted nor reverse-sorted, nor the order the stack publishes them in.
ORDERS = {"report": ("zeta", "alpha", "mid", "beta"), "digest": ("beta", "zeta", "mid")}
PUBLISH = ("alpha", "beta", "mid", "zeta")


def _layer(tmp: Path, name: str) -> LayerSpec:
    return LayerSpec(name=name, directory=tmp / "layers" / name, description=name, license="MIT",
                     runtimes=("python3.12",), architectures=("x86_64",), requirements=None, source=None,
                     portable=False)


def _function(tmp: Path, name: str, layers: tuple[str, ...]) -> FunctionSpec:
    directory = tmp / "functions" / name
    directory.mkdir(parents=True)
    (directory / "handler.py").write_text("def handler(event, context):\n    return 1\n", encoding="utf-8")
    return FunctionSpec(name=name, directory=directory, handler="handler.handler", runtime="python3.12",
                        architecture="x86_64", layers=layers, memory=128, timeout=3)


def _attached(tmp_path: Path) -> dict[str, list[str]]:
    base = _inputs(tmp_path / "base", bucket=None)  # its config; its layer and function are replaced
    layers = {name: _layer(tmp_path, name) for name in PUBLISH}
    builds = {name: [_build(tmp_path, name, Variant(name, ("python3.12",), ("x86_64",), False), f"N = {name!r}\n")]
              for name in PUBLISH}
    functions = {name: _function(tmp_path, name, order) for name, order in ORDERS.items()}
    # Half the attachments pinned (a plain ARN string), half `latest` (the new version's Output).
    pins = (("report", (("alpha", 4), ("beta", 2))), ("digest", (("zeta", 7),)))
    inputs = replace(base, layers=layers, builds=builds, functions=functions, direct_upload_limit=10**9,
                     config=replace(base.config, publish=PUBLISH, deploy=tuple(ORDERS), pins=pins))
    with deadline(60):
        rec, _ = run_under_mocks(lambda: deploy_stack(inputs), project="proj", stack="s3", region="eu-west-1",
                                 config={"aws:region": "eu-west-1"}, recorder=_Recorder("eu-west-1", {}, {}))
    return {r["name"]: r["inputs"]["layers"] for r in rec.resources if r["type"] == FN}


def _layer_name(arn: Any) -> str:
    match = re.fullmatch(r"arn:aws:lambda:eu-west-1:\d{12}:layer:proj-s3-([a-z]+)-py312-x86_64:\d+", str(arn))
    assert match, arn
    return match.group(1)


def test_layers_are_attached_in_function_toml_order(tmp_path: Path) -> None:
    attached = _attached(tmp_path)
    assert {name: [_layer_name(arn) for arn in arns] for name, arns in attached.items()} == {
        name: list(order) for name, order in ORDERS.items()}
    assert attached["report"][1].endswith(":4") and attached["report"][3].endswith(":2")  # the pins
