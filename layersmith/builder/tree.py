"""Walking, hashing and measuring file trees — shared by the cache key, the manifest and the zip."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield (posix relative path, path) for every regular file, sorted by relative path.

    Sorting on the full relative path (not per directory) is what makes every consumer —
    hash, manifest, zip — independent of the filesystem's directory order.
    """
    found: list[tuple[str, Path]] = []
    base = os.fspath(root)
    # followlinks: a symlinked directory is copied into the layer, so it must be hashed too.
    # One lstat per file and string paths: this walk runs several times per build (split, deflate,
    # hash), and pathlib's per-file parsing was most of its cost on a 3,000-file layer.
    for dirpath, dirnames, filenames in os.walk(base, followlinks=True):
        dirnames.sort()
        prefix = "" if dirpath == base else os.path.relpath(dirpath, base).replace(os.sep, "/") + "/"
        for name in filenames:
            full = os.path.join(dirpath, name)
            mode = os.lstat(full).st_mode
            if stat.S_ISREG(mode):
                found.append((prefix + name, Path(full)))
            elif stat.S_ISLNK(mode):
                # A layer is a zip: links would either dangle or duplicate. Materialise them.
                target = Path(full).resolve()
                if target.is_file():
                    found.append((prefix + name, target))
    found.sort(key=lambda item: item[0])
    yield from found


def shipped_sources(root: Path) -> Iterator[tuple[str, Path]]:
    """The files of a layer's `source` that go into the zip: no hidden files or directories (editor
    swap files, .mypy_cache), no bytecode. The cache key hashes exactly this set, so what cannot
    change the zip cannot invalidate the cache either."""
    for rel, path in walk_files(root):
        parts = rel.split("/")
        if any(p.startswith(".") or p == "__pycache__" for p in parts) or rel.endswith((".pyc", ".pyo")):
            continue
        yield rel, path


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
