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
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

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


class _Hashing:
    """Hashes the zip while it is written: reading 30 MB back for its sha256 cost an incremental build as
    much as writing it. The writer's ~8,000 small writes (a header, a name, a stream each) are copied into
    one of two 4 MB buffers; a full buffer is hashed in a thread (hashlib releases the GIL) while this
    thread writes it to the file, then fills the other one. Hashing and writing each entry in turn was
    55 ms of data-science's 32 MB; joining the writes into a new block each time cost 20 ms of page
    faults. A stream larger than a buffer is hashed and written as it is: what is written here (a
    piece's bytes, a header) never changes afterwards."""

    def __init__(self, out: BinaryIO, hasher: ThreadPoolExecutor) -> None:
        self.out = out
        self.hasher = hasher  # one thread: the writes are hashed in the order given
        self.digest = hashlib.sha256()
        self.size = 0
        self.buffers = [bytearray(_BLOCK), bytearray(_BLOCK)]
        self.hashing: list[Future[None]] = []  # every hash under way, in order
        self.busy: list[Future[None] | None] = [None, None]  # the hash reading each buffer
        self.current = 0
        self.used = 0

    def write(self, data: bytes | memoryview) -> int:
        size = len(data)
        if self.used + size > _BLOCK:
            self.flush()
        if size > _BLOCK:
            self._send(data)
        else:
            self.buffers[self.current][self.used:self.used + size] = data
            self.used += size
        self.size += size
        return size

    def flush(self) -> None:
        if self.used:
            self.busy[self.current] = self._send(memoryview(self.buffers[self.current])[:self.used])
            self.current, self.used = 1 - self.current, 0
            if (busy := self.busy[self.current]) is not None:  # never refilled while it is being hashed
                busy.result()

    def _send(self, data: bytes | memoryview) -> Future[None]:
        hashing = self.hasher.submit(self.digest.update, data)
        self.hashing.append(hashing)
        self.out.write(data)
        return hashing

    def hexdigest(self) -> str:
        """Once everything is written and flushed."""
        for hashing in self.hashing:
            hashing.result()
        return self.digest.hexdigest()


_BLOCK = 4 << 20


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
        with os.fdopen(fd, "wb") as raw, ThreadPoolExecutor(1, thread_name_prefix="layersmith-zip") as hasher:
            out = _Hashing(raw, hasher)
            write_packed(out, _entries(layout, manifest_name, body), dos_date=DOS_DATE, dos_time=DOS_TIME)
            out.flush()
            digest = out.hexdigest()
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Assembled(digest, content, files, unzipped, out.size, largest_tops(sized), _known(layout))


def _known(layout: dict[str, tuple[Piece, PieceEntry]]) -> dict[str, KnownStream]:
    """The entries whose streams were checked when their piece was made (`Piece.checked`)."""
    views = {piece.key: memoryview(piece.read()) for piece, _ in layout.values() if piece.checked}
    return {name: KnownStream(entry.crc, entry.size, views[piece.key][entry.offset:entry.offset + entry.csize])
            for name, (piece, entry) in layout.items() if piece.checked}
