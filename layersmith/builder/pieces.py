"""The per-distribution build cache: one slimmed, compiled and deflated piece per locked wheel.

A variant is assembled from pieces, so bumping one package in a lock rebuilds that package only
(issue 13). A piece is keyed by what decides its bytes: the wheel (name, version and the lock's
hashes, which pin the file uv may install), where it sits in the zip (the runtime's site-packages),
the targets it was verified for, the installer's identity (uv and the interpreter that compiles
the bytecode) and the recipe version. A pure-Python piece without compiled code is stored under a
key without the architecture, so the arm64 and x86_64 variants share it.

On disk: `<cache>/.pieces/<k[:2]>/<k>/index.json` (every entry's name, mode, CRC, sizes, sha256 and
offset, the sha256 of data.bin, and a sha256 of the index itself) and `data.bin` (the raw-deflate
streams, back to back). A piece is verified whenever it is read: an index or data.bin that does not
match its recorded hash (flipped bytes, truncation, a directory in its place, or a piece written
before pieces carried hashes) is discarded and made again, never copied into a zip (issue 22: a
damaged data.bin once shipped as a "built" zip). Hashing data.bin costs one pass of SHA-256 over
bytes the zip needs anyway. `.py`/`.pyc` bytes are deflated
once, when the piece is made, and copied verbatim into every zip that uses them. The unpacked tree
is not kept: inflating `data.bin` gives it back, and nothing but the zip needs it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from layersmith.builder.cache import discard, ensure_dir
from layersmith.builder.tree import file_sha256, is_executable, walk_files
from layersmith.builder.verify import elf_header_machine
from layersmith.builder.zipwriter import crc32, deflate_checked
from layersmith.errors import BuildError

PIECES = ".pieces"
_INDEX = "index.json"
_DATA = "data.bin"


@dataclass(frozen=True)
class PieceEntry:
    name: str  # path in the zip
    mode: int
    crc: int
    size: int
    csize: int
    offset: int
    sha256: str


@dataclass(frozen=True)
class Piece:
    key: str
    directory: Path
    entries: tuple[PieceEntry, ...]
    dist: dict[str, Any] | None  # {"name", "version", "tags", "dist_info"} for a wheel's piece, None for sources
    bytecode: str | None  # what compiled its .pyc files ("cpython-311"), None when nothing could
    data: bytes = field(default=b"", repr=False, compare=False)  # data.bin, verified against the index
    # Every stream in data.bin inflated back to its file when the piece was made, and data.bin and the
    # entries (CRC, sizes, offsets) are still what was recorded then (`checked_digest`): a zip copying
    # them is checked by comparing bytes (zipcheck's `known`). False for a piece made before pieces
    # recorded it, or whose index no longer matches what was checked.
    checked: bool = False

    def read(self) -> bytes:
        return self.data


def piece_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def checked_digest(data_sha256: str, entries: Iterable[PieceEntry]) -> str:
    """What `stage_piece` checked: the streams written (their sha256) under these entries. The index's
    own hash does not stand in for it: that is recomputed whenever an index is written, so a wrong CRC
    written into an index (a bug, not damage) would still pass it."""
    body = {"data_sha256": data_sha256, "entries": [e.__dict__ for e in entries]}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _index_check(index: dict[str, Any]) -> str:
    """The index's own hash: any change to a value (an entry's CRC, offset or size) breaks it."""
    body = {k: v for k, v in index.items() if k != "check"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class DamagedPiece(Exception):
    """A piece whose files do not match their recorded hashes (internal: the store discards it)."""


OnDamage = Callable[[Path, str], None]


class PieceStore:
    def __init__(self, root: Path, on_damage: OnDamage = lambda _p, _why: None) -> None:
        self.root = root / PIECES
        self.cache_root = root
        self.on_damage = on_damage  # told (piece directory, what was wrong) before a damaged piece is discarded

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def stored(self, key: str) -> bool:
        """Whether a piece (sound or not: `get` tells) is stored under `key`."""
        return os.path.lexists(self.path(key))

    def get(self, key: str) -> Piece | None:
        """The piece if it is stored and intact; a damaged one is discarded (so it is made again)."""
        directory = self.path(key)
        if not os.path.lexists(directory):
            return None
        try:
            return _load(key, directory)
        except DamagedPiece as exc:
            self.on_damage(directory, str(exc))
            discard(directory, self.cache_root)
            return None

    def put(self, key: str, staged: Path, entries: Sequence[PieceEntry], dist: dict[str, Any] | None,
            bytecode: str | None, checked: str | None = None) -> Piece:
        """`staged` holds data.bin; index.json is written last, then the directory is renamed into place.
        `checked`: `stage_piece`'s `checked_digest` of what it checked and wrote. data.bin is hashed from
        the disk, so bytes that reached the disk other than as written leave the piece unchecked (and
        the zip check then inflates its entries)."""
        index: dict[str, Any] = {"entries": [e.__dict__ for e in entries], "dist": dist, "bytecode": bytecode,
                                 "data_sha256": file_sha256(staged / _DATA), "checked": checked}
        index["check"] = _index_check(index)
        (staged / _INDEX).write_text(json.dumps(index, sort_keys=True), encoding="utf-8")
        target = self.path(key)
        ensure_dir(target.parent, "the build cache's pieces")
        try:
            os.rename(staged, target)
        except OSError:  # a concurrent build stored the same piece first: same bytes, keep theirs
            shutil.rmtree(staged, ignore_errors=True)
        piece = self.get(key)
        if piece is None:
            raise BuildError(f"a piece could not be stored (it was discarded as damaged right after it was "
                             f"written); check the disk under {self.root}", path=target)
        return piece

    def keys(self) -> Iterator[str]:
        if self.root.is_dir():
            for shard in self.root.iterdir():
                if shard.is_dir():
                    yield from (p.name for p in shard.iterdir() if p.is_dir())


def _load(key: str, directory: Path) -> Piece:
    """Read and verify a stored piece: the index against its own hash, data.bin against the index."""
    try:
        index = json.loads((directory / _INDEX).read_text(encoding="utf-8"))
        data = (directory / _DATA).read_bytes()
    except (OSError, ValueError) as exc:
        raise DamagedPiece(f"damaged: unreadable ({exc.__class__.__name__})") from None
    if not isinstance(index, dict) or "check" not in index:
        raise DamagedPiece("written by an older layersmith, without the hashes that verify it")
    if index["check"] != _index_check(index):
        raise DamagedPiece("damaged: index.json does not match its own hash")
    if hashlib.sha256(data).hexdigest() != index.get("data_sha256"):
        raise DamagedPiece("damaged: data.bin does not match the sha256 in index.json")
    try:
        entries = tuple(PieceEntry(**e) for e in index["entries"])
    except (KeyError, TypeError) as exc:
        raise DamagedPiece(f"damaged: index.json is malformed ({exc})") from None
    return Piece(key, directory, entries, index.get("dist"), index.get("bytecode"), data,
                 checked=index.get("checked") == checked_digest(index["data_sha256"], entries))


# --- splitting a freshly built tree into pieces ---------------------------------------------------

def _record_files(site: Path, dist_info: Path) -> set[Path]:
    owned = {p for p in dist_info.rglob("*") if p.is_file()}
    record = dist_info / "RECORD"
    if record.is_file():
        base = os.path.normpath(site)
        with record.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                if not row:
                    continue
                target = os.path.normpath(os.path.join(base, row[0]))
                if target.startswith(base + os.sep) and os.path.isfile(target):
                    owned.add(Path(target))
    return owned


def _bytecode_by_source(site: Path) -> dict[Path, list[Path]]:
    """`pkg/__pycache__/mod.cpython-311[.opt-N].pyc` -> `pkg/mod.py`, from one walk of the tree."""
    index: dict[Path, list[Path]] = {}
    for cache_dir in site.rglob("__pycache__"):
        for pyc in cache_dir.glob("*.pyc"):
            stem = pyc.name.removesuffix(".pyc")
            if ".opt-" in stem:
                stem = stem.rsplit(".", 1)[0]
            index.setdefault(cache_dir.parent / f"{stem.rsplit('.', 1)[0]}.py", []).append(pyc)
    return index


def _with_bytecode(files: set[Path], bytecode: dict[Path, list[Path]]) -> set[Path]:
    """A module's `__pycache__/<stem>.cpython-3X.pyc` belongs with it (RECORD predates compiling)."""
    out = set(files)
    for path in files:
        if path.suffix == ".py":
            out.update(bytecode.get(path, ()))
    return out


def split_by_distribution(stage: Path, site: Path) -> tuple[dict[str, list[tuple[str, Path]]], list[tuple[str, Path]]]:
    """({canonical dist name: [(zip name, path)]}, [files no distribution owns]) of a built stage."""
    by_dist, claimed = _recorded_by_distribution(stage, site)
    # A file RECORD does not list (a package's data written by a post-install step, or an installer
    # that under-reports) goes with the distribution that owns its top-level directory.
    tops = _top_level_owners(site, by_dist)
    rest: list[tuple[str, Path]] = []
    for rel, path in walk_files(stage):
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


def _recorded_by_distribution(stage: Path, site: Path) -> tuple[dict[str, list[tuple[str, Path]]], set[Path]]:
    """({dist: [(zip name, path)]} of the files each RECORD lists, with their bytecode; every file claimed)."""
    by_dist: dict[str, list[tuple[str, Path]]] = {}
    claimed: set[Path] = set()
    bytecode = _bytecode_by_source(site)
    for dist_info in sorted(site.glob("*.dist-info")):
        name: str = canonicalize_name(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        owned = _with_bytecode(_record_files(site, dist_info), bytecode) - claimed
        claimed |= owned
        by_dist[name] = sorted((p.relative_to(stage).as_posix(), p) for p in owned)
    return by_dist, claimed


def _top_level_owners(site: Path, by_dist: dict[str, list[tuple[str, Path]]]) -> dict[str, str]:
    """{top-level directory under site: the first distribution whose RECORD lists a file in it}."""
    tops: dict[str, str] = {}
    seen: set[str] = set()  # one stat per top-level name, not per file (pytz: 600 files, 1 directory)
    for owner, listed in by_dist.items():
        for _, path in listed:
            first = path.relative_to(site).parts[0]
            if first not in seen:
                seen.add(first)
                if (site / first).is_dir():
                    tops[first] = owner
    return tops


@dataclass(frozen=True)
class _Deflated:
    raw_sha: str
    crc: int
    size: int
    data: bytes
    mode: int
    elf: bool


def deflate_file(path: Path, level: int) -> _Deflated:
    raw = path.read_bytes()
    try:
        data = deflate_checked(raw, level)
    except ValueError as exc:
        raise BuildError(f"deflating it failed its check ({exc}); report this with the file", path=path) from None
    mode = 0o100755 if is_executable(path) else 0o100644
    return _Deflated(hashlib.sha256(raw).hexdigest(), crc32(raw), len(raw), data, mode,
                     elf_header_machine(raw[:20]) is not None)  # the bytes read: no second open


def _deflate_batch(paths: Sequence[Path], level: int) -> list[_Deflated]:
    return [deflate_file(path, level) for path in paths]


# A task per file cost more than deflating it: pytz's 600 small files took 160 ms of CPU in the pool,
# 70 ms in one thread (a future, a queue hand-off and GIL switches each). So files go in batches of up
# to this many files or bytes; a large file (a .so) is a batch of its own, so the cores stay balanced.
_BATCH_FILES = 64
_BATCH_BYTES = 1 << 20


class Deflater:
    """Deflates files on every core (libdeflate releases the GIL), in batches; results are read back in a
    fixed order, so the output never depends on which thread finished first."""

    def __init__(self, level: int, workers: int | None = None) -> None:
        self.level = level
        self.pool = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1)
        self.futures: dict[Path, tuple[Future[list[_Deflated]], int]] = {}

    def submit(self, paths: Iterable[Path]) -> None:
        batch: list[Path] = []
        size = 0
        for path in paths:
            if path in self.futures or path in batch:
                continue
            batch.append(path)
            with contextlib.suppress(OSError):  # reading it then fails in the batch: `result` raises that
                size += os.stat(path).st_size
            if len(batch) >= _BATCH_FILES or size >= _BATCH_BYTES:
                self._send(batch)
                batch, size = [], 0
        if batch:
            self._send(batch)

    def _send(self, batch: list[Path]) -> None:
        future = self.pool.submit(_deflate_batch, batch, self.level)
        for index, path in enumerate(batch):
            self.futures[path] = (future, index)

    def result(self, path: Path) -> _Deflated:
        self.submit([path])
        future, index = self.futures[path]
        return future.result()[index]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def deflater(level: int) -> Iterator[Deflater]:
    d = Deflater(level)
    try:
        yield d
    finally:
        d.close()


def stage_piece(files: Sequence[tuple[str, Path]], deflate: Deflater,
                dest: Path) -> tuple[list[PieceEntry], bool, str]:
    """Write the deflated streams of `files` into `dest/data.bin`; (entries, has compiled code, the
    `checked_digest` of the streams as written: `PieceStore.put` records it, and the piece is `checked`
    only while data.bin and the entries still match it)."""
    dest.mkdir(parents=True)
    entries, offset, elf = [], 0, False
    written = hashlib.sha256()
    with (dest / _DATA).open("wb") as out:
        for name, path in files:
            d = deflate.result(path)
            out.write(d.data)
            written.update(d.data)
            entries.append(PieceEntry(name, d.mode, d.crc, d.size, len(d.data), offset, d.raw_sha))
            offset += len(d.data)
            elf = elf or d.elf
    return entries, elf, checked_digest(written.hexdigest(), entries)

