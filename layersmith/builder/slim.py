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

from layersmith.names import canonicalize_name

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
    if removed:  # nothing removed, nothing emptied: no walk (every build calls this, most exclude nothing here)
        _prune_empty_dirs(site)
    return removed


def _prune_empty_dirs(root: Path) -> None:
    for path in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(path.iterdir()):
            path.rmdir()


_HOST_BYTECODE = (".pyc", ".pyo")


class _Slimming:
    """One walk of a site-packages tree: what goes is deleted as it is met, what stays is counted."""

    def __init__(self, site: str, trash: str | None = None) -> None:
        self.site = site
        self.trash = trash  # where a directory that goes is moved, to be deleted later (`slim_tree`)
        self.moved = 0
        self.kept: list[tuple[str, int]] = []  # (directory, entries left in it), parents before children
        self.files: set[str] = set()  # the regular files left

    def walk(self, dirpath: str) -> None:
        try:
            with os.scandir(dirpath) as listing:
                entries = list(listing)
        except OSError:
            return  # as rglob: a directory that cannot be listed is not entered
        subdirs: list[str] = []
        self.kept.append((dirpath, sum(self._keeps(entry, dirpath, subdirs) for entry in entries)))
        for subdir in subdirs:
            self.walk(subdir)

    def _keeps(self, entry: os.DirEntry[str], dirpath: str, subdirs: list[str]) -> bool:
        """Delete the entry if it goes; whether it stays (a directory that stays is added to `subdirs`)."""
        if _entry_is_dir(entry):
            if self._goes(entry, dirpath):
                self._remove_dir(entry)
                return False
            if not entry.is_symlink():  # rglob does not enter a linked directory either
                subdirs.append(entry.path)
        elif ((os.path.splitext(entry.name)[1] in _HOST_BYTECODE and entry.is_file())
              or (dirpath == self.site and entry.name == ".lock")):  # uv's lock file for --target installs
            os.unlink(entry.path)
            return False
        elif entry.is_file(follow_symlinks=False):
            self.files.add(entry.path)
        return True

    def _remove_dir(self, entry: os.DirEntry[str]) -> None:
        if self.trash is not None and not entry.is_symlink():
            try:
                os.rename(entry.path, os.path.join(self.trash, str(self.moved)))
                self.moved += 1
                return
            except OSError:  # another filesystem after all: deleted here, as without a trash
                pass
        shutil.rmtree(entry.path)  # a link to a directory is refused by rmtree, as before

    def _goes(self, entry: os.DirEntry[str], parent: str) -> bool:
        if entry.name == "__pycache__":
            return True
        if entry.name in _TEST_DIRS:  # only inside a package (or a stray top-level `tests` a sloppy wheel installed)
            return parent == self.site or os.path.exists(os.path.join(parent, "__init__.py"))
        # bin/: console scripts; a package named bin (it has an __init__.py) stays
        return parent == self.site and entry.name == "bin" and not os.path.exists(
            os.path.join(entry.path, "__init__.py"))

    def prune_empty_dirs(self) -> None:
        """Children before parents: a directory emptied by removing its empty children goes too."""
        left = dict(self.kept)
        for dirpath, _ in reversed(self.kept[1:]):  # never the site itself
            if left[dirpath] == 0:
                os.rmdir(dirpath)
                left[os.path.dirname(dirpath)] -= 1


def _entry_is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def slim_tree(site: Path, *, trash: Path | None = None) -> None:
    """Remove host bytecode, test suites and scripts below `site` (a site-packages-like dir).

    One walk with os.scandir: three pathlib walks (rglob, each sorted by depth, then `iterdir` per
    directory for the empty ones) were 50 ms of a one-package rebuild for pytz's 600 files.

    `trash`: an empty directory on `site`'s filesystem, outside what is zipped. A directory that goes
    (a test suite: pandas' is ~1,500 files) is renamed into it, for the caller to delete later, not
    deleted here: deleting was three quarters of slimming data-science (0.2-0.3 s of unlinks, with one
    core busy, before compiling could start). The tree left in `site` is the same either way."""
    slimming = _Slimming(os.fspath(site), None if trash is None else os.fspath(trash))
    slimming.walk(slimming.site)
    slimming.prune_empty_dirs()
    _prune_records(site, slimming.files)


def _ships(site: str, line: str, files: set[str]) -> bool:
    row = next(csv.reader([line]), None)
    if not row:
        return True
    target = os.path.normpath(os.path.join(site, row[0]))
    # `files` holds the tree's regular files; what is not among them may still be a file through a link
    return target.startswith(site + os.sep) and (target in files or os.path.isfile(target))


def _prune_records(site: Path, files: set[str]) -> None:
    """Drop the RECORD rows of files that are not in the tree (console scripts, host bytecode, tests).

    uv writes the build interpreter's path into console-script shebangs and their hashes into
    RECORD: with the scripts gone, those rows only made the zip differ from machine to machine (and
    between `python` and `python3` of one venv) — numpy's `f2py` did. RECORD then lists what ships.
    """
    base = os.path.normpath(site)
    for record in sorted(site.glob("*.dist-info/RECORD")):
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if _ships(base, line, files)]
        if kept != lines:
            # A new file renamed over the old one, never a write into it: installed files are
            # hardlinks into uv's cache (HostInstaller.install), which an in-place write would edit.
            fresh = record.with_name("RECORD.layersmith-tmp")
            fresh.write_text("".join(kept), encoding="utf-8")
            os.chmod(fresh, record.stat().st_mode & 0o777)
            os.replace(fresh, record)
