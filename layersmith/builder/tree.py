"""Walking, hashing and measuring file trees — shared by the cache key, the manifest and the zip."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from layersmith.errors import SpecError

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def walk_files(root: Path, *, skip: Callable[[str], bool] | None = None,
               what: str = "the tree") -> Iterator[tuple[str, Path]]:
    """Yield (posix relative path, path) for every regular file, sorted by relative path.

    Sorting on the full relative path (not per directory) is what makes every consumer —
    hash, manifest, zip — independent of the filesystem's directory order. `skip(name)`: file and
    directory names left out (a skipped directory is not entered, its links not judged).

    Symlinks (issue 22): a zip holds files, so a link is materialised, shipped as a copy of what it
    points at, but only when that is inside `root` (`what` names root in the error). A link that
    leaves root, dangles, or points at a directory above itself is refused in one line naming it:
    following it shipped the build host's files (`ln -s /etc/passwd` in a layer's source).
    """
    for rel, path in walk_paths(root, skip=skip, what=what):
        yield rel, Path(path)


def walk_paths(root: Path | str, *, skip: Callable[[str], bool] | None = None,
               what: str = "the tree") -> list[tuple[str, str]]:
    """`walk_files` with the paths as strings: the builder's own walks (slim, the ELF check, the split into
    pieces) run on every build, and a `Path` per file was most of their cost on pytz's 600 files."""
    found: list[tuple[str, str]] = []
    base = os.fspath(root)
    # One scandir per directory and no stat per file: a directory entry knows its type (d_type).
    _walk_dir(base, "", _Walk(os.path.realpath(base), Path(root), what, skip, found))
    found.sort(key=lambda item: item[0])
    return found


class _Walk:
    """What every directory of one `walk_paths` shares."""

    def __init__(self, real_base: str, root: Path, what: str, skip: Callable[[str], bool] | None,
                 found: list[tuple[str, str]]) -> None:
        self.real_base, self.root, self.what, self.skip, self.found = real_base, root, what, skip, found


def _walk_dir(dirpath: str, prefix: str, walk: _Walk) -> None:
    """As `os.walk(followlinks=True)`: a directory that cannot be listed is left out; directory links are
    judged before they are followed, in name order, then the files' links in the directory's order."""
    dirs, files = _listing(dirpath, walk.skip)
    for entry in dirs:
        if entry.is_symlink():
            _check_link(entry.path, walk.real_base, walk.root, walk.what, inside=os.path.realpath(dirpath))
    for entry in files:
        if entry.is_symlink():
            walk.found.append((prefix + entry.name, _check_link(entry.path, walk.real_base, walk.root, walk.what)))
        elif entry.is_file(follow_symlinks=False):
            walk.found.append((prefix + entry.name, entry.path))
    for entry in dirs:
        _walk_dir(entry.path, f"{prefix}{entry.name}/", walk)


def _listing(dirpath: str, skip: Callable[[str], bool] | None) -> tuple[list[os.DirEntry[str]], list[os.DirEntry[str]]]:
    """(directories by name, other entries in the directory's order), without the skipped names; nothing when
    the directory cannot be listed."""
    try:
        with os.scandir(dirpath) as listing:
            entries = [entry for entry in listing if skip is None or not skip(entry.name)]
    except OSError:
        return [], []
    dirs: list[os.DirEntry[str]] = []
    files: list[os.DirEntry[str]] = []
    for entry in entries:
        (dirs if _is_dir(entry) else files).append(entry)
    dirs.sort(key=lambda entry: entry.name)
    return dirs, files


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a link, as os.walk does
    except OSError:
        return False


def _check_link(link: str, real_base: str, root: Path, what: str, inside: str | None = None) -> str:
    """The real path a link inside `root` points at; refuse one that leaves root, dangles, or (a
    directory link, `inside` the real directory holding it) points at itself or an ancestor."""
    target = os.path.realpath(link)
    shown = os.readlink(link)
    if os.path.commonpath([real_base, target]) != real_base:
        raise SpecError(f"a symlink to {shown}, outside {what} ({_relative(root)}): only what is inside it ships; "
                        "copy the file in, or remove the link", path=link)
    if not os.path.exists(target):
        raise SpecError(f"a symlink to {shown}, which does not exist; remove it or fix its target", path=link)
    if inside is not None and os.path.commonpath([target, inside]) == target:
        raise SpecError(f"a symlink to {shown}, a directory that contains it: the copy would never end; "
                        "remove it", path=link)
    return target


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def _source_skip(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__" or name.endswith((".pyc", ".pyo"))


def shipped_sources(root: Path) -> Iterator[tuple[str, Path]]:
    """The files of a layer's `source` that go into the zip: no hidden files or directories (editor
    swap files, .mypy_cache), no bytecode. The cache key hashes exactly this set, so what cannot
    change the zip cannot invalidate the cache either. Hidden entries are skipped before their links
    are judged: an editor's dangling `.#file` lock link is no error."""
    return walk_files(root, skip=_source_skip, what="the layer's source")


def files_sha256(files: Iterable[tuple[str, Path]]) -> str:
    """Hash of names, executable bits and contents: stable across machines, clocks and umasks."""
    digest = hashlib.sha256()
    for rel, path in files:
        mode = "x" if is_executable(path) else "-"
        digest.update(f"{rel}\0{mode}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def tree_sha256(root: Path) -> str:
    return files_sha256(walk_files(root))


def tree_size(root: Path) -> tuple[int, int]:
    """(files, bytes) of a tree."""
    files = total = 0
    for _, path in walk_files(root):
        files += 1
        total += path.stat().st_size
    return files, total


def top_level_sizes(root: Path, limit: int = 10) -> list[tuple[str, int]]:
    """The largest top-level packages under every site-packages-like directory, biggest first."""
    return largest_tops(((rel, path.stat().st_size) for rel, path in walk_files(root)), limit)


def largest_tops(sized: Iterable[tuple[str, int]], limit: int = 10) -> list[tuple[str, int]]:
    """`top_level_sizes` over (relative path, size) pairs, e.g. from the piece cache's indexes."""
    sizes: dict[str, int] = {}
    for rel, size in sized:
        parts = rel.split("/")
        # python/lib/python3.X/site-packages/<pkg>/... or python/<pkg>/...
        idx = parts.index("site-packages") + 1 if "site-packages" in parts else 1
        key = parts[idx] if idx < len(parts) else parts[-1]
        sizes[key] = sizes.get(key, 0) + size
    return sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
