"""A variant's zip, assembled from cached pieces: nothing is unpacked or recompressed.

The bytes equal what `archive.write_zip` writes for the same tree (same sorted names, modes, 1980
timestamps, deflate level, headers: `zipwriter.write_packed` is the one writer of both), so a
variant built from pieces cached by earlier builds is byte-identical to one built from scratch.
`Assembled.known` lists the entries copied from checked pieces, so the zip check compares them
instead of inflating them again (`zipcheck.verify_zip`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layersmith.builder.archive import COMPRESS_LEVEL, DOS_DATE, DOS_TIME, manifest_path
from layersmith.builder.pieces import Piece, PieceEntry
from layersmith.builder.tree import largest_tops
from layersmith.builder.verify import check_totals
from layersmith.builder.zipcheck import KnownStream
from layersmith.builder.zipwriter import crc32, deflate_raw, packed, write_packed


@dataclass(frozen=True)
class Assembled:
    sha256: str
    content_sha256: str
    files: int
    unzipped_bytes: int
    zip_bytes: int
    top_level_sizes: list[tuple[str, int]]
    known: Mapping[str, KnownStream] = field(default_factory=dict, repr=False)  # entries from checked pieces


def _layout(pieces: Sequence[Piece]) -> dict[str, tuple[Piece, PieceEntry]]:
    """zip name -> where its bytes are; a later piece wins a clash (the layer's own source comes last,
    as it was copied over the installed packages before pieces existed)."""
    layout: dict[str, tuple[Piece, PieceEntry]] = {}
    for piece in pieces:
        for entry in piece.entries:
            layout[entry.name] = (piece, entry)
    return layout


def content_hash(layout: dict[str, tuple[Piece, PieceEntry]]) -> str:
    """`archive.content_sha256` from the indexes: names, exec bits and contents as in /opt."""
    digest = hashlib.sha256()
    for name in sorted(layout):
        entry = layout[name][1]
        mode = "x" if entry.mode & 0o100 else "-"
        digest.update(f"{name}\0{mode}\0{entry.sha256}\n".encode())
    return digest.hexdigest()


def _manifest_bytes(manifest: dict[str, Any], content: str) -> bytes:
    return (json.dumps({**manifest, "content_sha256": content}, indent=2, sort_keys=True) + "\n").encode()


def _entries(layout: dict[str, tuple[Piece, PieceEntry]], manifest_name: str,
             manifest: bytes) -> Iterator[tuple[int, Any]]:
    blobs: dict[str, memoryview] = {}
    extra = {manifest_name: (0o100644, packed(manifest_name, crc32(manifest), len(manifest),
                                              deflate_raw(manifest, COMPRESS_LEVEL)))}
    for name in sorted([*layout, *extra]):
        if name in extra:
            yield extra[name]
            continue
        piece, entry = layout[name]
        if piece.key not in blobs:
            blobs[piece.key] = memoryview(piece.read())
        data = blobs[piece.key][entry.offset:entry.offset + entry.csize]
        yield entry.mode, packed(name, entry.crc, entry.size, data)


_Writev = Callable[[int, Sequence[bytes | memoryview]], int]


class _Vectored:
    """Writes the zip with `os.writev` straight from the pieces' bytes and the headers, and hashes it while
    it is written: the ~5,500 writes of a layer (a header and name, a stream) are gathered into batches of
    up to `_IOVECS` buffers; each batch is written by one thread and hashed by another (`os.writev` and
    hashlib release the GIL), while this one lays out the next. Copying the writes into reused 4 MB buffers
    first, as before, was another pass over data-science's 32 MB in Python, and the kernel's copy into the
    file (40 ms) then ran while nothing else did. Every buffer given is immutable (a `bytes` or a view of a
    piece's `bytes`): nothing can change between being hashed and being written. The sha256 is of the
    bytes given, not read back: the zip check reads the file and compares the two (`zipcheck.verify_zip`)."""

    def __init__(self, fd: int, hasher: ThreadPoolExecutor, writer: ThreadPoolExecutor,
                 writev: _Writev = os.writev) -> None:
        self.fd = fd
        self.hasher = hasher  # one thread each: the batches are hashed, and written, in the order given
        self.writer = writer
        self.writev = writev
        self.digest = hashlib.sha256()
        self.size = 0
        self.pending: list[bytes | memoryview] = []
        self.under_way: list[Future[None]] = []  # every hash and write not yet waited for

    def write(self, data: bytes | memoryview) -> int:
        self.pending.append(data)
        self.size += len(data)
        if len(self.pending) >= _IOVECS:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            self.under_way.append(self.hasher.submit(_update, self.digest, batch))
            self.under_way.append(self.writer.submit(_write_all, self.fd, batch, self.writev))

    def finish(self) -> str:
        """Flush, wait for every write and hash (a failed write raises here): the sha256 of what was written."""
        self.flush()
        for future in self.under_way:
            future.result()
        return self.digest.hexdigest()


_IOVECS = 1024  # Linux's IOV_MAX: buffers per writev


def _update(digest: Any, batch: list[bytes | memoryview]) -> None:
    for data in batch:
        digest.update(data)


def _write_all(fd: int, batch: list[bytes | memoryview], writev: _Writev) -> None:
    """Every byte of `batch`, in order: a short write (a signal, a full disk's last bytes) goes on from where
    it stopped, as `file.write` does; a write of nothing is an error (ENOSPC would have been raised)."""
    rest = batch
    while rest:
        written = writev(fd, rest)
        if written <= 0:
            raise OSError(f"writing the zip stopped after {written} bytes")
        done = 0
        while done < len(rest) and written >= len(rest[done]):
            written -= len(rest[done])
            done += 1
        rest = rest[done:]
        if written:
            rest[0] = memoryview(rest[0])[written:]


def assemble(pieces: Sequence[Piece], layer: str, manifest: dict[str, Any], dest: Path) -> Assembled:
    """Check the size, embed the manifest, write the zip atomically to `dest`."""
    layout = _layout(pieces)
    manifest_name = manifest_path(layer)
    layout.pop(manifest_name, None)
    content = content_hash(layout)
    body = _manifest_bytes(manifest, content)
    sized = [(name, e.size) for name, (_, e) in layout.items()] + [(manifest_name, len(body))]
    files, unzipped = check_totals(len(sized), sum(s for _, s in sized), lambda: largest_tops(sized), layer)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        try:
            # Leaving the `with` waits for every write under way, failed or not, before `fd` is closed.
            with (ThreadPoolExecutor(1, thread_name_prefix="layersmith-zip-sha256") as hasher,
                  ThreadPoolExecutor(1, thread_name_prefix="layersmith-zip-write") as writer):
                out = _Vectored(fd, hasher, writer)
                write_packed(out, _entries(layout, manifest_name, body), dos_date=DOS_DATE, dos_time=DOS_TIME)
                digest = out.finish()
            os.fchmod(fd, 0o644)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Assembled(digest, content, files, unzipped, out.size, largest_tops(sized), _known(layout))


def _known(layout: dict[str, tuple[Piece, PieceEntry]]) -> dict[str, KnownStream]:
    """The entries whose streams were checked when their piece was made (`Piece.checked`), each as its
    piece's bytes and where the stream is in them: the check compares the zip against them in place."""
    data = {piece.key: piece.read() for piece, _ in layout.values() if piece.checked}
    return {name: KnownStream(entry.crc, entry.size, data[piece.key], entry.offset, entry.csize)
            for name, (piece, entry) in layout.items() if piece.checked}
