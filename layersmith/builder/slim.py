"""Slim an installed tree: what Lambda can never use goes, what `importlib.metadata` needs stays.

- `__pycache__`/`*.pyc` from the build host: bytecode for another Python is dead weight
  (48 MB for pandas+numpy, docs/architecture.md#bytecode-for-the-runtimes-exact-python); the right
  bytecode is compiled afterwards.
- test suites (`tests/`, `test/` inside packages): never imported by a handler.
- `bin/`: console scripts whose shebang names the build host's interpreter; nothing on Lambda
  runs them, and that path would make the zip differ from machine to machine.
- distributions the layer's `exclude` lists (the runtime provides boto3/botocore & co.).
`.dist-info` directories stay: `importlib.metadata.version("pandas")` must keep working; their
RECORD drops the rows of what slimming removed (see `_prune_records`).
`.so` files are never stripped: `strip --strip-unneeded` broke numpy's import
(docs/architecture.md#slimming-never-strips-so-files).
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

from packaging.utils import canonicalize_name

_TEST_DIRS = {"tests", "test"}


def _dist_name(dist_info: Path) -> str:
    return canonicalize_name(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])


def remove_distributions(site: Path, names: tuple[str, ...]) -> list[str]:
    """Delete every file the RECORD of each named distribution lists; returns what was removed."""
    removed: list[str] = []
    wanted = set(names)
    for dist_info in sorted(site.glob("*.dist-info")):
        if _dist_name(dist_info) not in wanted:
            continue
        record = dist_info / "RECORD"
        if record.is_file():
            with record.open(newline="", encoding="utf-8") as fh:
                for row in csv.reader(fh):
                    if row:
                        target = (site / row[0]).resolve()
                        if target.is_relative_to(site.resolve()) and target.is_file():
                            target.unlink()
        shutil.rmtree(dist_info, ignore_errors=True)
        removed.append(dist_info.name)
    _prune_empty_dirs(site)
    return removed


def _prune_empty_dirs(root: Path) -> None:
    for path in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(path.iterdir()):
            path.rmdir()


def _is_test_dir(path: Path, site: Path) -> bool:
    if path.name not in _TEST_DIRS:
        return False
    # Only inside a package (or a stray top-level `tests` a sloppy wheel installed).
    return path.parent == site or (path.parent / "__init__.py").exists()


def slim_tree(site: Path) -> None:
    """Remove host bytecode, test suites and scripts below `site` (a site-packages-like dir)."""
    for path in sorted(site.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_dir() and (path.name == "__pycache__" or _is_test_dir(path, site)):
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in {".pyc", ".pyo"}:
            path.unlink()
    (site / ".lock").unlink(missing_ok=True)  # uv's lock file for --target installs
    bin_dir = site / "bin"
    if bin_dir.is_dir() and not (bin_dir / "__init__.py").exists():
        shutil.rmtree(bin_dir)
    _prune_empty_dirs(site)
    _prune_records(site)


def _ships(site: Path, line: str) -> bool:
    row = next(csv.reader([line]), None)
    if not row:
        return True
    base = os.path.normpath(site)
    target = os.path.normpath(os.path.join(base, row[0]))
    return target.startswith(base + os.sep) and os.path.isfile(target)


def _prune_records(site: Path) -> None:
    """Drop the RECORD rows of files that are not in the tree (console scripts, host bytecode, tests).

    uv writes the build interpreter's path into console-script shebangs and their hashes into
    RECORD: with the scripts gone, those rows only made the zip differ from machine to machine (and
    between `python` and `python3` of one venv) — numpy's `f2py` did. RECORD then lists what ships.
    """
    for record in sorted(site.glob("*.dist-info/RECORD")):
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if _ships(site, line)]
        if kept != lines:
            # A new file renamed over the old one, never a write into it: installed files are
            # hardlinks into uv's cache (HostInstaller.install), which an in-place write would edit.
            fresh = record.with_name("RECORD.layersmith-tmp")
            fresh.write_text("".join(kept), encoding="utf-8")
            os.chmod(fresh, record.stat().st_mode & 0o777)
            os.replace(fresh, record)
