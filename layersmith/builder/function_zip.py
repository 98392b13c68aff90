"""Package a function's own code (its directory minus spec, tests and caches) as a deterministic zip."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from layersmith.builder.archive import write_zip
from layersmith.builder.tree import tree_sha256, tree_size
from layersmith.errors import EnvironmentProblem
from layersmith.model import FunctionSpec

_IGNORE = shutil.ignore_patterns("function.toml", "tests", "__pycache__", "*.pyc", "*.pyo", ".*",
                                 "conftest.py")


@dataclass(frozen=True)
class FunctionPackage:
    zip_path: Path
    sha256: str
    unzipped_bytes: int
    files: int


def package_function(spec: FunctionSpec, cache_root: Path) -> FunctionPackage:
    """Content-addressed: the same code always lands in the same file with the same bytes."""
    with tempfile.TemporaryDirectory(prefix="fn-") as tmp:
        stage = Path(tmp) / "code"
        shutil.copytree(spec.directory, stage, ignore=_IGNORE)
        digest = tree_sha256(stage)
        files, size = tree_size(stage)
        dest = cache_root / "functions" / spec.name / f"{digest[:16]}.zip"
        if dest.is_dir():  # rewritten on every run, so damage heals; a directory is not ours to delete
            raise EnvironmentProblem("a directory stands where the build cache keeps this function's zip; "
                                     "remove it", path=dest)
        sha = write_zip(stage, dest)
    return FunctionPackage(dest, sha, size, files)
