"""What `pulumi preview` shows when a layer version is being replaced: its `layerArn`, `version`
and `arn` outputs are unknown. Pinned function ARNs and pinned grants must not depend on them (they
are built from the caller identity, a data source answered in preview), or every pinned function
and grant would preview as changing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from helpers import deadline
from test_infra_s3 import _inputs

from layersmith.infra.preview import _Recorder, run_under_mocks

FN = "aws:lambda/function:Function"
GRANTS = "pulumi-python:dynamic/layersmith:LayerGrants"
BASE = "arn:aws:lambda:eu-west-1:123456789012:layer:proj-s3-big-py312-x86_64"


class _Replacing(_Recorder):
    """Every LayerVersion is being replaced: the mocks return none of its computed outputs."""

    def outputs_for(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if typ == "aws:lambda/layerVersion:LayerVersion":
            return f"{name}-id", dict(inputs)
        return super().outputs_for(typ, name, inputs)


def _preview(tmp_path: Path, pin: int | str) -> list[dict[str, Any]]:
    from layersmith.infra.stack import deploy_stack

    inputs = _inputs(tmp_path, bucket=None)
    inputs = replace(inputs, direct_upload_limit=10**9,
                     config=replace(inputs.config, pins=(("report", (("big", pin),)),)))
    rec = _Replacing("eu-west-1", {}, {})
    with deadline(60):
        run_under_mocks(lambda: deploy_stack(inputs), project="proj", stack="s3", region="eu-west-1",
                        config={"aws:region": "eu-west-1"}, recorder=rec, preview=True)
    return rec.resources


def test_a_pinned_function_arn_is_known_while_its_layer_version_is_replaced(tmp_path: Path) -> None:
    resources = _preview(tmp_path, 3)
    [fn] = [r for r in resources if r["type"] == FN]
    assert fn["inputs"]["layers"] == [f"{BASE}:3"]


def _unknown(value: object) -> bool:
    from pulumi.output import Unknown

    return isinstance(value, Unknown)


def test_pinned_grants_are_known_and_only_the_new_versions_grants_wait(tmp_path: Path) -> None:
    grants = {r["name"]: r["inputs"] for r in _preview(tmp_path, 3) if r["type"] == GRANTS}
    pinned = grants["big-py312-x86_64-v3-grants"]
    assert pinned["layerArn"] == BASE and pinned["version"] == 3
    current = grants["big-py312-x86_64-grants"]
    assert current["layerArn"] == BASE and _unknown(current["version"])


def test_the_control_a_latest_pin_really_is_unknown_in_that_preview(tmp_path: Path) -> None:
    """Proves the mocks above do make the version's outputs unknown."""
    [fn] = [r for r in _preview(tmp_path, "latest") if r["type"] == FN]
    [layer] = fn["inputs"]["layers"]
    assert _unknown(layer)
