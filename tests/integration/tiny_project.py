"""A tiny layersmith project for the tests that only need what the program registers for grants.

One source-only, portable layer (nothing to download: it builds offline in well under a second) and
one stack that publishes it, retains versions and shares it. The program (`__main__.py`) and
`Pulumi.yaml` are the repository's own, so the registrations are the real program's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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
    from layersmith.project import load_project

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
