"""The builder's walks with string paths (issue 25) against the pathlib walks they replaced.

A one-package rebuild spent ~200 ms in pathlib on pytz's 600 files: slimming (rglob, sorted by depth,
then `iterdir` per directory), the ELF check and the split into pieces. They now walk once with
`os.scandir`. The references below are the previous implementations, verbatim but for names: on
generated trees (packages, test suites, host bytecode, console scripts, dist-infos whose RECORD lists
files that are there, gone, or outside the site, links inside and out) the new walks must leave the
same tree, the same RECORDs, the same files in the same pieces, and refuse the same links."""

from __future__ import annotations

import csv
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layersmith.builder.pieces import split_by_distribution
from layersmith.builder.slim import slim_tree
from layersmith.builder.tree import walk_paths
from layersmith.errors import SpecError

# --- the references: main before issue 25's walks ----------------------------------------------------


def ref_walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    base = os.fspath(root)
    real_base = os.path.realpath(base)
    for dirpath, dirnames, filenames in os.walk(base, followlinks=True):
        dirnames[:] = sorted(dirnames)
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                _ref_check_link(full, real_base, inside=os.path.realpath(dirpath))
        prefix = "" if dirpath == base else os.path.relpath(dirpath, base).replace(os.sep, "/") + "/"
        for name in filenames:
            full = os.path.join(dirpath, name)
            mode = os.lstat(full).st_mode
            if stat.S_ISREG(mode):
                found.append((prefix + name, Path(full)))
            elif stat.S_ISLNK(mode):
                found.append((prefix + name, Path(_ref_check_link(full, real_base))))
    found.sort(key=lambda item: item[0])
    yield from found


def _ref_check_link(link: str, real_base: str, inside: str | None = None) -> str:
    """The reference's refusals, by kind (the messages are `tree._check_link`'s either way)."""
    target = os.path.realpath(link)
    if os.path.commonpath([real_base, target]) != real_base:
        raise SpecError("outside", path=link)
    if not os.path.exists(target):
        raise SpecError("does not exist", path=link)
    if inside is not None and os.path.commonpath([target, inside]) == target:
        raise SpecError("contains it", path=link)
    return target


def ref_slim_tree(site: Path) -> None:
    for path in sorted(site.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_dir() and (path.name == "__pycache__" or _ref_is_test_dir(path, site)):
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in {".pyc", ".pyo"}:
            path.unlink()
    (site / ".lock").unlink(missing_ok=True)
    bin_dir = site / "bin"
    if bin_dir.is_dir() and not (bin_dir / "__init__.py").exists():
        shutil.rmtree(bin_dir)
    for path in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(path.iterdir()):
            path.rmdir()
    base = os.path.normpath(site)
    for record in sorted(site.glob("*.dist-info/RECORD")):
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if _ref_ships(base, line)]
        if kept != lines:
            record.write_text("".join(kept), encoding="utf-8")


def _ref_is_test_dir(path: Path, site: Path) -> bool:
    return path.name in {"tests", "test"} and (path.parent == site or (path.parent / "__init__.py").exists())


def _ref_ships(base: str, line: str) -> bool:
    row = next(csv.reader([line]), None)
    if not row:
        return True
    target = os.path.normpath(os.path.join(base, row[0]))
    return target.startswith(base + os.sep) and os.path.isfile(target)


def ref_split(stage: Path, site: Path) -> tuple[dict[str, list[tuple[str, Path]]], list[tuple[str, Path]]]:
    by_dist, claimed = _ref_recorded(stage, site)
    tops = _ref_tops(site, by_dist)
    rest: list[tuple[str, Path]] = []
    for rel, path in ref_walk_files(stage):
        if path in claimed:
            continue
        top = path.relative_to(site).parts[0] if path.is_relative_to(site) else None
        if top is not None and top in tops:
            by_dist[tops[top]].append((rel, path))
        else:
            rest.append((rel, path))
    for listed in by_dist.values():
        listed.sort()
    return by_dist, rest


def _ref_recorded(stage: Path, site: Path) -> tuple[dict[str, list[tuple[str, Path]]], set[Path]]:
    from packaging.utils import canonicalize_name

    by_dist: dict[str, list[tuple[str, Path]]] = {}
    claimed: set[Path] = set()
    bytecode = _ref_bytecode(site)
    for dist_info in sorted(site.glob("*.dist-info")):
        name = canonicalize_name(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        files = _ref_record_files(site, dist_info)
        owned = set(files)
        for path in files:
            if path.suffix == ".py":
                owned.update(bytecode.get(path, ()))
        owned -= claimed
        claimed |= owned
        by_dist[name] = sorted((p.relative_to(stage).as_posix(), p) for p in owned)
    return by_dist, claimed


def _ref_bytecode(site: Path) -> dict[Path, list[Path]]:
    bytecode: dict[Path, list[Path]] = {}
    for cache_dir in site.rglob("__pycache__"):
        for pyc in cache_dir.glob("*.pyc"):
            stem = pyc.name.removesuffix(".pyc")
            if ".opt-" in stem:
                stem = stem.rsplit(".", 1)[0]
            bytecode.setdefault(cache_dir.parent / f"{stem.rsplit('.', 1)[0]}.py", []).append(pyc)
    return bytecode


def _ref_tops(site: Path, by_dist: dict[str, list[tuple[str, Path]]]) -> dict[str, str]:
    tops: dict[str, str] = {}
    seen: set[str] = set()
    for owner, listed in by_dist.items():
        for _, path in listed:
            first = path.relative_to(site).parts[0]
            if first not in seen:
                seen.add(first)
                if (site / first).is_dir():
                    tops[first] = owner
    return tops


def _ref_record_files(site: Path, dist_info: Path) -> set[Path]:
    owned = {p for p in dist_info.rglob("*") if p.is_file()}
    record = dist_info / "RECORD"
    if record.is_file():
        base = os.path.normpath(site)
        with record.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                if row:
                    target = os.path.normpath(os.path.join(base, row[0]))
                    if target.startswith(base + os.sep) and os.path.isfile(target):
                        owned.add(Path(target))
    return owned


# --- generated trees ---------------------------------------------------------------------------------

DIRS = ["pkg", "sub", "tests", "test", "__pycache__", "bin", "data", "alpha-1.0.dist-info", "beta_x-2.dist-info"]
FILES = ["__init__.py", "mod.py", "six.py", "mod.cpython-311.pyc", "mod.cpython-311.opt-1.pyc", "old.pyo", ".lock",
         "RECORD", "zone.dat", "tool"]
paths = st.lists(st.tuples(st.lists(st.sampled_from(DIRS), max_size=3), st.sampled_from(FILES)),
                 min_size=1, max_size=25).map(lambda files: [([], "six.py"), ([], "mod.py"), *files])
# RECORD rows besides the tree's own files: a directory, a path outside the site, a quoted row, an empty
# field, a file that is not there
EXTRA_ROWS = ["../outside.py", "pkg", '"pkg/mod.py"', "", "bin/tool", "gone/mod.py"]


def rows(data: st.DataObject, files: list[tuple[list[str], str]]) -> list[str]:
    """RECORD rows, most of them files of the tree (so that RECORDs claim files and leave others)."""
    listed = ["/".join([*dirs, name]) for dirs, name in files]
    return data.draw(st.lists(st.sampled_from(listed + EXTRA_ROWS), max_size=15))


def build(site: Path, files: list[tuple[list[str], str]], records: list[str]) -> None:
    site.mkdir(parents=True)
    for index, (dirs, name) in enumerate(files):
        path = site.joinpath(*dirs, name)
        if path.is_dir():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{index}\n")
    # two distributions, each RECORD listing part of the rows (a file may be in both, or in neither)
    for index, dist_info in enumerate(("alpha-1.0.dist-info", "beta_x-2.dist-info")):
        record = site / dist_info / "RECORD"
        if record.parent.is_dir() or not record.parent.exists():
            record.parent.mkdir(exist_ok=True)
            record.write_text("".join(f"{row},sha256=x,1\n" for row in records[index::2]), encoding="utf-8")
    (site.parent / "outside.py").write_text("not the site's\n")


def tree_state(root: Path) -> dict[str, str | None]:
    """Every file's text and every directory (None) under root."""
    return {p.relative_to(root).as_posix(): (p.read_text() if p.is_file() else None) for p in root.rglob("*")}


@given(files=paths, data=st.data())
def test_slim_leaves_the_tree_the_pathlib_slim_left(tmp_path_factory: pytest.TempPathFactory,
                                                     files: list[tuple[list[str], str]], data: st.DataObject) -> None:
    records = rows(data, files)
    root = tmp_path_factory.mktemp("slim")
    new, ref = root / "new" / "site", root / "ref" / "site"
    build(new, files, records)
    build(ref, files, records)
    slim_tree(new)
    ref_slim_tree(ref)
    assert tree_state(new) == tree_state(ref)


@given(files=paths, data=st.data())
def test_slim_with_a_trash_leaves_the_tree_slim_without_one_leaves(tmp_path_factory: pytest.TempPathFactory,
                                                                   files: list[tuple[list[str], str]],
                                                                   data: st.DataObject) -> None:
    """A build's slimming moves the directories that go into a trash (deleted in the background)."""
    records = rows(data, files)
    root = tmp_path_factory.mktemp("slim-trash")
    moved, deleted, trash = root / "moved" / "site", root / "deleted" / "site", root / "trash"
    build(moved, files, records)
    build(deleted, files, records)
    trash.mkdir()
    slim_tree(moved, trash=trash)
    slim_tree(deleted)
    assert tree_state(moved) == tree_state(deleted)


@given(files=paths, data=st.data(), compiled=st.booleans())
def test_split_puts_the_same_files_in_the_same_pieces(tmp_path_factory: pytest.TempPathFactory,
                                                       files: list[tuple[list[str], str]], data: st.DataObject,
                                                       compiled: bool) -> None:
    records = rows(data, files)
    stage = tmp_path_factory.mktemp("split") / "layer"
    site = stage / "python" / "lib" / "python3.11" / "site-packages"
    build(site, files, records)
    (stage / "python" / "own.py").write_text("a source file\n")
    if compiled:  # what compileall adds after slimming (an optimised one too)
        for py in list(site.rglob("*.py")):
            (py.parent / "__pycache__").mkdir(exist_ok=True)
            for tag in ("cpython-311", "cpython-311.opt-1"):
                (py.parent / "__pycache__" / f"{py.stem}.{tag}.pyc").write_text("pyc")
    by_dist, rest = split_by_distribution(stage, site)
    ref_by_dist, ref_rest = ref_split(stage, site)
    assert by_dist == {name: [(rel, str(path)) for rel, path in listed] for name, listed in ref_by_dist.items()}
    assert rest == [(rel, str(path)) for rel, path in ref_rest]


LINKS = ["pkg/mod.py", "pkg", "sub", "..", "../outside.py", "missing", "pkg/sub"]


@given(files=paths, links=st.lists(st.tuples(st.sampled_from(["l1", "pkg/l2", "sub/l3"]), st.sampled_from(LINKS)),
                                   max_size=3))
def test_walk_finds_and_refuses_what_os_walk_did(tmp_path_factory: pytest.TempPathFactory,
                                                  files: list[tuple[list[str], str]],
                                                  links: list[tuple[str, str]]) -> None:
    root = tmp_path_factory.mktemp("walk") / "site"
    build(root, files, [])
    for where, target in links:
        link = root / where
        if link.parent.is_dir() and not os.path.lexists(link):
            link.symlink_to(os.path.relpath(root / target, link.parent))
    got = _outcome(lambda: walk_paths(root))
    want = _outcome(lambda: [(rel, str(path)) for rel, path in ref_walk_files(root)])
    assert got == want


def _outcome(walk: Callable[[], list[tuple[str, str]]]) -> object:
    """The files found, or which link was refused for what (the first refusal, in walk order)."""
    try:
        return walk()
    except SpecError as exc:
        kind = next(k for k in ("outside", "does not exist", "contains it") if k in exc.message)
        return kind, exc.path
