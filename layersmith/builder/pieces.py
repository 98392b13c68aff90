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
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from layersmith.builder.cache import discard, ensure_dir
from layersmith.builder.tree import walk_paths
from layersmith.builder.verify import elf_header_machine
from layersmith.builder.zipwriter import crc32, deflate_checked
from layersmith.errors import BuildError
from layersmith.names import canonicalize_name

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
        `checked`: `stage_piece`'s `checked_digest` of what it checked and wrote. data.bin is read back and
        hashed, so bytes that reached the disk other than as written leave the piece unchecked (and the zip
        check then inflates its entries). The piece returned holds those bytes read back: reading the
        directory again just after writing it (its index parsed and hashed twice more, data.bin hashed
        again) gave the same piece, at 30 ms of a one-package rebuild. A piece a concurrent build stored
        first is read and verified as any stored piece is."""
        data = (staged / _DATA).read_bytes()
        data_sha256 = hashlib.sha256(data).hexdigest()
        index: dict[str, Any] = {"entries": [e.__dict__ for e in entries], "dist": dist, "bytecode": bytecode,
                                 "data_sha256": data_sha256, "checked": checked}
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
                raise BuildError(f"a piece could not be stored (the one stored by another build was discarded as "
                                 f"damaged); check the disk under {self.root}", path=target) from None
            return piece
        return Piece(key, target, tuple(entries), dist, bytecode, data,
                     checked=checked is not None and checked == checked_digest(data_sha256, entries))

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

_Listed = list[tuple[str, str]]  # (zip name, path) of the files of a built stage


def _record_files(site: str, dist_info: str, under: dict[str, list[str]], present: set[str]) -> set[str]:
    """The files of a distribution: its .dist-info directory's and those its RECORD lists, inside site."""
    owned = set(under.get(os.path.basename(dist_info), ()))
    try:
        with open(os.path.join(dist_info, "RECORD"), newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return owned
    for row in rows:
        if not row:
            continue
        target = os.path.normpath(os.path.join(site, row[0]))
        # `present`: the stage's regular files; what is not among them may still be one through a link
        if target.startswith(site + os.sep) and (target in present or os.path.isfile(target)):
            owned.add(target)
    return owned


def _bytecode_by_source(site: str, listed: _Listed) -> dict[str, list[str]]:
    """`pkg/__pycache__/mod.cpython-311[.opt-N].pyc` -> `pkg/mod.py`, from the stage's files."""
    index: dict[str, list[str]] = {}
    for _, path in listed:
        cache_dir, name = os.path.split(path)
        if os.path.basename(cache_dir) != "__pycache__" or not name.endswith(".pyc") or _top(site, path) is None:
            continue
        stem = name.removesuffix(".pyc")
        if ".opt-" in stem:
            stem = stem.rsplit(".", 1)[0]
        index.setdefault(os.path.join(os.path.dirname(cache_dir), f"{stem.rsplit('.', 1)[0]}.py"), []).append(path)
    return index


def _with_bytecode(files: set[str], bytecode: dict[str, list[str]]) -> set[str]:
    """A module's `__pycache__/<stem>.cpython-3X.pyc` belongs with it (RECORD predates compiling)."""
    out = set(files)
    for path in files:
        if os.path.splitext(path)[1] == ".py":
            out.update(bytecode.get(path, ()))
    return out


def _top(site: str, path: str) -> str | None:
    """The first component of `path` below `site`, None when it is not below it."""
    if not path.startswith(site + os.sep):
        return None
    return path[len(site) + 1:].split(os.sep, 1)[0]


def split_by_distribution(stage: Path, site: Path) -> tuple[dict[str, _Listed], _Listed]:
    """({canonical dist name: [(zip name, path)]}, [files no distribution owns]) of a built stage.

    One walk of the stage (string paths, as `walk_paths`): its files are what every RECORD row is
    looked up in. The same walk and pathlib's per-file parsing, three times over, were 100 ms of a
    one-package rebuild for pytz's 600 files."""
    site_s = os.fspath(site)
    listed = walk_paths(stage)
    by_dist, claimed = _recorded_by_distribution(os.fspath(stage), site_s, listed)
    # A file RECORD does not list (a package's data written by a post-install step, or an installer
    # that under-reports) goes with the distribution that owns its top-level directory.
    tops = _top_level_owners(site_s, by_dist)
    rest: _Listed = []
    for rel, path in listed:
        if path in claimed:
            continue
        top = _top(site_s, path)
        if top is not None and top in tops:
            by_dist[tops[top]].append((rel, path))
        else:
            rest.append((rel, path))
    for files in by_dist.values():
        files.sort()
    return by_dist, rest


def _recorded_by_distribution(stage: str, site: str, listed: _Listed) -> tuple[dict[str, _Listed], set[str]]:
    """({dist: [(zip name, path)]} of the files each RECORD lists, with their bytecode; every file claimed)."""
    by_dist: dict[str, _Listed] = {}
    claimed: set[str] = set()
    present = {path for _, path in listed}
    under: dict[str, list[str]] = {}  # top-level directory under site -> its files
    for path in present:
        if (top := _top(site, path)) is not None and top.endswith(".dist-info"):
            under.setdefault(top, []).append(path)
    bytecode = _bytecode_by_source(site, listed)
    for dist_info in sorted(_dist_infos(site)):
        name: str = canonicalize_name(os.path.basename(dist_info).removesuffix(".dist-info").rsplit("-", 1)[0])
        owned = _with_bytecode(_record_files(site, dist_info, under, present), bytecode) - claimed
        claimed |= owned
        by_dist[name] = sorted((p[len(stage) + 1:].replace(os.sep, "/"), p) for p in owned)
    return by_dist, claimed


def _dist_infos(site: str) -> list[str]:
    """What `Path.glob("*.dist-info")` finds in site (a file so named too: it owns nothing)."""
    try:
        with os.scandir(site) as listing:
            return [entry.path for entry in listing if entry.name.endswith(".dist-info")]
    except OSError:
        return []


def _top_level_owners(site: str, by_dist: dict[str, _Listed]) -> dict[str, str]:
    """{top-level directory under site: the first distribution whose RECORD lists a file in it}."""
    tops: dict[str, str] = {}
    for owner, files in by_dist.items():
        for _, path in files:
            parts = path[len(site) + 1:].split(os.sep, 1)
            # a directory: something is below it (every path here is a file inside site)
            if len(parts) == 2 and parts[0] not in tops:
                tops[parts[0]] = owner
    return tops


class _Deflated(NamedTuple):
    """One file's stream and what its entry records (a tuple: made once per file, 600 for pytz)."""

    raw_sha: str
    crc: int
    size: int
    data: bytes
    mode: int
    elf: bool


def deflate_file(path: Path | str, level: int) -> _Deflated:
    raw, mode = _read(path)
    try:
        data = deflate_checked(raw, level)
    except ValueError as exc:
        raise BuildError(f"deflating it failed its check ({exc}); report this with the file", path=path) from None
    return _Deflated(hashlib.sha256(raw).hexdigest(), crc32(raw), len(raw), data,
                     0o100755 if mode & stat.S_IXUSR else 0o100644,
                     elf_header_machine(raw[:20]) is not None)  # the bytes read: no second open


def _read(path: Path | str) -> tuple[bytes, int]:
    """(the file's bytes, up to its end, and its mode) with one descriptor and no file object: for pytz's
    600 small files, `open()` and its buffered reader were a fifth of deflating them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        info = os.fstat(fd)
        chunks = [os.read(fd, info.st_size + 1)]  # the whole file, then the empty read that says it ended
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 20))
    finally:
        os.close(fd)
    return (chunks[0] if len(chunks) <= 2 else b"".join(chunks)), info.st_mode


def _deflate_batch(paths: Sequence[Path | str], level: int) -> list[_Deflated]:
    return [deflate_file(path, level) for path in paths]


# A task per file cost more than deflating it: pytz's 600 small files took 160 ms of CPU in the pool,
# 70 ms in one thread (a future, a queue hand-off and GIL switches each). So files go in batches of up
# to this many files or bytes; a large file (a .so) is a batch of its own, so the cores stay balanced.
_BATCH_FILES = 64
_BATCH_BYTES = 1 << 20


class Deflater:
    """Deflates files on every core (libdeflate releases the GIL), in batches; results are read back in a
    fixed order, so the output never depends on which thread finished first. With `workers=0`, each file
    is deflated when its result is asked, in the asking thread: for a few MB (one package of a rebuild),
    threads cost more than they save (pytz's 600 files: 48 ms in one thread, 65-95 ms in the pool, which
    also slows the thread that feeds it). The streams are the same either way."""

    def __init__(self, level: int, workers: int | None = None) -> None:
        self.level = level
        count = (os.cpu_count() or 1) if workers is None else workers
        self.pool = ThreadPoolExecutor(max_workers=count) if count else None
        self.futures: dict[Path | str, tuple[Future[list[_Deflated]], int]] = {}
        self.ready: dict[Path | str, _Deflated] = {}  # deflated ahead of being asked (`prefetch`)

    def submit(self, paths: Iterable[Path | str]) -> None:
        if self.pool is None:
            return
        batch: list[Path | str] = []
        queued: set[Path | str] = set()
        size = 0
        for path in paths:
            if path in self.futures or path in queued:
                continue
            batch.append(path)
            queued.add(path)
            with contextlib.suppress(OSError):  # reading it then fails in the batch: `result` raises that
                size += os.stat(path).st_size
            if len(batch) >= _BATCH_FILES or size >= _BATCH_BYTES:
                self._send(batch)
                batch, size = [], 0
        if batch:
            self._send(batch)

    def _send(self, batch: list[Path | str]) -> None:
        assert self.pool is not None
        future = self.pool.submit(_deflate_batch, batch, self.level)
        for index, path in enumerate(batch):
            self.futures[path] = (future, index)

    def prefetch(self, path: Path | str) -> None:
        """Deflate `path` now, in this thread, when there is no pool (while this thread would wait anyway)."""
        if self.pool is None and path not in self.ready:
            self.ready[path] = deflate_file(path, self.level)

    def result(self, path: Path | str) -> _Deflated:
        if self.pool is None:
            return self.ready.pop(path, None) or deflate_file(path, self.level)
        self.submit([path])
        future, index = self.futures[path]
        return future.result()[index]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def deflater(level: int, workers: int | None = None) -> Iterator[Deflater]:
    d = Deflater(level, workers)
    try:
        yield d
    finally:
        d.close()


def stage_piece(files: Sequence[tuple[str, Path | str]], deflate: Deflater,
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

