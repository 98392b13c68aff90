"""A tiny layersmith project for the tests that only need what the program registers for grants.

One source-only, portable layer (nothing to download: it builds offline in well under a second) and
one stack that publishes it, retains versions and shares it. The program (`__main__.py`) and
`Pulumi.yaml` are the repository's own, so the registrations are the real program's.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from helpers import REPO, write_layer

LAYER = "tiny"
STACK = "prod"
SHARE = {"accounts": ["222222222222", "333333333333"], "organizations": ["o-exampleorg01"]}


def tiny_project(dest: Path) -> Path:
    """Write the project under `dest` (created) and return it."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(REPO / name, dest / name)
    write_layer(dest, LAYER, runtimes=("python3.11",), portable=True,
                source={"tiny/__init__.py": "VALUE = 1\n"})
    config = {"aws:region": "eu-west-1", "layersmith:publish": [LAYER], "layersmith:deploy": [],
              "layersmith:retainVersions": True, "layersmith:shareWith": SHARE}
    (dest / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return dest


def provider_blob(dest: Path, cache: Path) -> str:
    """The `__provider` the real program registers for every LayerGrants of the tiny project
    (a mocked run of its `__main__.py`, building into `cache`)."""
    import os

    from layersmith.infra.preview import run_program
    from layersmith.project.checkout import load_project

    saved = os.environ.get("LAYERSMITH_CACHE_DIR")
    os.environ["LAYERSMITH_CACHE_DIR"] = str(cache)
    try:
        _cfg, rec, _out = run_program(load_project(tiny_project(dest)), STACK)
    finally:
        if saved is None:
            os.environ.pop("LAYERSMITH_CACHE_DIR", None)
        else:
            os.environ["LAYERSMITH_CACHE_DIR"] = saved
    blobs = {name: blob for name, blob in rec.providers.items() if name.endswith("-grants")}
    assert blobs and len(set(blobs.values())) == 1, "every LayerGrants carries the same stateless provider"
    return next(iter(blobs.values()))


def registered_delete_before_replace() -> bool | None:
    """The `deleteBeforeReplace` option a `LayerGrants` sends the engine when it registers (what
    `Engine.delete_before_replace` stands for): read from the RegisterResource request itself, under
    Pulumi's mocks, whose `MockResourceArgs` do not carry resource options."""
    import pulumi
    from pulumi.runtime import mocks, settings

    from layersmith.aws.grants import Statement
    from layersmith.infra.grants import TYPE, LayerGrants

    seen: list[bool] = []

    class Recording(mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            if request.type == TYPE:
                seen.append(bool(request.deleteBeforeReplace))
            return super().RegisterResource(request)

    class Plain(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return {}, []

    plain = Plain()
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(plain, project="layersmith", stack=STACK, preview=False, monitor=Recording(plain))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Any:
        grants = LayerGrants("g", layer_arn="arn:aws:lambda:eu-west-1:123456789012:layer:x", version=1,
                             statements=[Statement("layersmith-public", "*")], retain=False)
        return grants.urn

    try:
        run()
    finally:
        settings.ROOT.set(None)
    assert len(seen) == 1, seen
    return seen[0] or None
