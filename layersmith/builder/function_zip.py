"""Package a function's own code (its directory minus spec, tests and caches) as a deterministic zip."""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from layersmith.builder.archive import write_zip
from layersmith.builder.tree import tree_sha256, tree_size, walk_files
from layersmith.builder.zipcheck import verify_zip
from layersmith.errors import EnvironmentProblem
from layersmith.model import FunctionSpec

# Names left out at any depth (as `shutil.ignore_patterns` would): the spec, tests, caches, dotfiles.
_IGNORE = ("function.toml", "tests", "__pycache__", "*.pyc", "*.pyo", ".*", "conftest.py")


def _ignored(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _IGNORE)


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
        stage.mkdir()
        # Through walk_files, not copytree: the same link rules as a layer's source (a link leaving the
        # function's directory is refused, one inside it ships as a copy of its target).
        for rel, path in walk_files(spec.directory, skip=_ignored, what="the function's directory"):
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        digest = tree_sha256(stage)
        files, size = tree_size(stage)
        dest = cache_root / "functions" / spec.name / f"{digest[:16]}.zip"
        if dest.is_dir():  # rewritten on every run, so damage heals; a directory is not ours to delete
            raise EnvironmentProblem("a directory stands where the build cache keeps this function's zip; "
                                     "remove it", path=dest)
        sha = write_zip(stage, dest)
        verify_zip(dest, sha, remedy="run the command again")  # a function's zip ships too (a few KB: cheap)
    return FunctionPackage(dest, sha, size, files)
