"""A deterministic zip writer that deflates on every core.

`zipfile` compresses one entry at a time on one thread with zlib, and deflating was the largest
part of a cold data-science build after bytecode. Entries are deflated with libdeflate (the
`deflate` package) instead, at level 5 (`archive.COMPRESS_LEVEL`): for the data-science layer's
100 MB, 14 % less CPU than level 6 (1.97 vs 2.29 s, with the inflate check and hashes) for a 0.8 %
larger zip (32.2 vs 31.9 MB: 1.043x the smallest peer zip in bench/peers.py, whose goal is <= 1.05x;
level 4 would be ~1.07x). Level 6 already took about a third of zlib's CPU time. libdeflate's stream
is a different, equally valid raw-deflate stream, so the zip
is no longer byte-for-byte what `zipfile` writes. What holds (tests/unit/test_zipwriter.py): any
zip reader extracts it with valid CRCs; the headers are the ones `zipfile` writes (version 2.0,
no data descriptor, no extra fields); and the same entries give the same bytes on every run, on
every machine with the same pinned `deflate`, and whether a variant is written whole or assembled
from cached pieces (`assemble.py` copies streams this module deflated). libdeflate releases the
GIL, so the entries are deflated in a thread pool, then written in sorted order. Sizes stay below
4 GiB (a layer is at most 262 MB unzipped), so no Zip64 records are needed.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

import deflate

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile.structCentralDir
_END = struct.Struct("<4s4H2LH")  # zipfile.structEndArchive
_VERSION = 20  # 2.0: deflate
_UNIX = 3
_DEFLATED = 8
_UTF8 = 0x800
_LIMIT = 0xFFFFFFFF


class Sink(Protocol):
    def write(self, data: bytes | memoryview, /) -> int: ...


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    mode: int  # 0o100644 or 0o100755


class _Packed(NamedTuple):
    """An entry ready to write (a tuple: an assembled zip makes one per entry, 2,770 for data-science, and a
    frozen dataclass's __init__ cost five times as much)."""

    name: bytes
    flags: int
    crc: int
    size: int
    data: bytes | memoryview  # a view into a piece's data.bin: copied once, into the zip


def deflate_raw(raw: bytes, level: int) -> bytes:
    """The raw-deflate stream (no zlib header, as zip stores it) of `raw`: the one compressor of
    every zip entry, so pieces, whole-tree zips and manifests all deflate identically."""
    return bytes(deflate.deflate_compress(raw, level))


def crc32(raw: bytes) -> int:
    return deflate.crc32(raw)


def deflate_checked(raw: bytes, level: int) -> bytes:
    """`deflate_raw`, inflated back and compared with `raw` while the file is still in memory: a piece's
    streams are checked once, when they are made, so a zip that copies them needs only a byte comparison
    with the checked stream, not another inflate (`zipcheck.verify_zip`'s `known`)."""
    data = deflate_raw(raw, level)
    if deflate.deflate_decompress(data, len(raw)) != raw:
        raise ValueError("libdeflate's stream does not inflate back to its input")
    return data


def _pack(entry: Entry, level: int) -> _Packed:
    raw = entry.path.read_bytes()
    data = deflate_raw(raw, level)
    if len(raw) > _LIMIT or len(data) > _LIMIT:
        raise ValueError(f"{entry.name} is over 4 GiB; a Lambda layer cannot hold it")
    name, flags = encode_name(entry.name)
    return _Packed(name, flags, crc32(raw), len(raw), data)


def encode_name(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8


def write_entries(out: BinaryIO, entries: Sequence[Entry], *, level: int, dos_date: int, dos_time: int,
                  workers: int | None = None) -> None:
    """Write `entries` (already in their final order) as a complete zip archive to `out`."""
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        packed = pool.map(lambda e: _pack(e, level), entries)
        write_packed(out, ((e.mode, p) for e, p in zip(entries, packed, strict=True)), dos_date=dos_date,
                     dos_time=dos_time)


def packed(name: str, crc: int, size: int, data: bytes | memoryview) -> _Packed:
    """An entry deflated earlier (the piece cache): its bytes are written as they are, never recompressed."""
    encoded, flags = encode_name(name)
    return _Packed(encoded, flags, crc, size, data)


def write_packed(out: Sink, entries: Iterable[tuple[int, _Packed]], *, dos_date: int, dos_time: int) -> None:
    """Write (mode, deflated entry) pairs, in the order given, as a complete zip archive to `out`."""
    central = []
    offset = 0
    local, record, write = _LOCAL.pack, _CENTRAL.pack, out.write  # looked up once: 2,770 entries
    for mode, (name, flags, crc, size, data) in entries:
        csize = len(data)
        header = local(b"PK\x03\x04", _VERSION, 0, flags, _DEFLATED, dos_time, dos_date, crc, csize, size,
                       len(name), 0) + name
        write(header)
        write(data)  # not concatenated: no copy of the (possibly large) stream
        central.append(record(b"PK\x01\x02", _VERSION, _UNIX, _VERSION, 0, flags, _DEFLATED, dos_time, dos_date,
                              crc, csize, size, len(name), 0, 0, 0, 0, (mode & 0xFFFF) << 16, offset) + name)
        offset += len(header) + csize
    directory = b"".join(central)
    if offset > _LIMIT or len(central) > 0xFFFF:
        raise ValueError("archive too large for a Lambda layer (over 4 GiB or 65,535 files)")
    out.write(directory)
    out.write(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), offset, 0))
