"""The last gate before a zip is called built or is published: its sha256 and every entry's CRC.

`verify_zip` checks what `zipfile.testzip` checks (each entry inflates to its recorded size and
CRC-32) plus the sha256 recorded for the zip, and that each local header agrees with the central
directory (a reader such as Lambda's unzip may trust either). It inflates with libdeflate, the
library that deflated the entries, about twice as fast as `testzip`'s zlib. A damaged piece once
produced a zip with valid headers and a corrupt stream, reported "built" and ready to publish
(issue 22): this is what stops that, whatever the damage was.

Verifying means inflating every entry (about 0.2-0.3 s of CPU for the 100 MB data-science layer),
so a zip whose exact bytes were already verified is only re-hashed: equal sha256, equal bytes. That
holds for the zips this process verified, and for cache hits (`vouch`): a cache entry is stored only
after its zip passed this check, and is a hit only while the zip still has the sha256 recorded then.

The same argument, per entry (issue 25): an assembled zip copies its entries' streams from pieces
whose streams were inflated back to their files when the piece was made, and whose data.bin still
has the sha256 recorded then (`pieces.Piece.checked`). Such an entry is `known`: when the zip's
local header, central record and stream bytes equal the checked stream's, it inflates as that one
did, so it is compared, not inflated. Anything else (the manifest, a piece made before pieces were
checked, an entry whose bytes differ in any way) is inflated and CRC-checked as before. A one-package
rebuild so inflates one package, not the 100 MB layer.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import mmap
import os
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import deflate

from layersmith.errors import VerificationError
from layersmith.model import BuildResult

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile.structCentralDir
_END = struct.Struct("<4s4H2LH")  # zipfile.structEndArchive
_ZIP64_LOCATOR = 20  # zipfile.sizeEndCentDir64Locator
_MAX_EXTRACT_VERSION = 63  # zipfile.MAX_EXTRACT_VERSION
_STORED, _DEFLATED = 0, 8  # zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
_UTF8 = 0x800
_INLINE_ENTRIES = 8  # entries to inflate below which a thread pool costs more than it saves
_VERIFIED: set[str] = set()  # sha256s of zips whose every entry this process inflated and checked


class KnownStream(NamedTuple):
    """A deflate stream already inflated back to `size` bytes with this CRC-32 (a checked piece's): the
    `length` bytes of `data` from `offset` (all of `data` by default; an assembled zip's are spans of its
    pieces' data.bin, not copies). A tuple: an assembled zip makes one per entry, 2,770 for data-science."""

    crc: int
    size: int
    data: bytes
    offset: int = 0
    length: int = -1  # -1: to the end of `data`

    def span(self) -> int:
        return len(self.data) - self.offset if self.length < 0 else self.length


class _Entry(NamedTuple):
    """What the check reads of a central directory record: `zipfile.ZipInfo`'s fields of the same names."""

    filename: str
    header_offset: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int


def verify_zip(path: Path, sha256: str, *, remedy: str, known: Mapping[str, KnownStream] | None = None) -> None:
    """Raise a one-line `VerificationError` naming `path` unless it is a sound zip with this sha256.
    `remedy` says what to do (e.g. "build it again"). `known`: entry name -> the checked stream it was
    copied from; an entry equal to it byte for byte is not inflated again.

    Reads the whole file once: a layer zip is at most a few tens of MB (Lambda's limit)."""
    if known:
        # A new build's check of the zip it just wrote (no other process has it): the file is mapped, not
        # read, and its sha256 computed in a thread (hashlib releases the GIL) while the entries are
        # compared; it is still judged first, as below. Reading 32 MB into fresh memory was 30 ms of page
        # faults, about as long as hashing them.
        with _mapped(path, remedy) as data, ThreadPoolExecutor(1, thread_name_prefix="layersmith-zip-sha256") as hasher:
            hashing = hasher.submit(_sha256, data)
            problem = first_bad_entry(data, known)
            actual = hashing.result()
    else:
        data = _read(path, remedy)
        actual, problem = _sha256(data), None
    if actual != sha256:
        raise VerificationError(f"the zip's sha256 is {actual[:12]}, not the recorded {sha256[:12]}: it changed "
                                f"after it was built; {remedy}", path=path)
    if actual in _VERIFIED:
        return
    if not known:
        problem = first_bad_entry(data)
    if problem is not None:
        raise VerificationError(f"the zip is damaged: {problem}; {remedy}", path=path)
    _VERIFIED.add(actual)


def _read(path: Path, remedy: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerificationError(f"cannot read the zip ({exc.strerror or exc}); {remedy}", path=path) from None


@contextlib.contextmanager
def _mapped(path: Path, remedy: str) -> Iterator[bytes | mmap.mmap]:
    """The file's bytes, mapped (read as `bytes` when it cannot be: an empty file)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise VerificationError(f"cannot read the zip ({exc.strerror or exc}); {remedy}", path=path) from None
    try:
        mapped = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
    except (OSError, ValueError):
        mapped = None
    finally:
        os.close(fd)
    if mapped is None:
        yield _read(path, remedy)
        return
    try:
        yield mapped
    finally:
        with contextlib.suppress(BufferError):  # a view still held (an exception's traceback): the GC closes it
            mapped.close()


def _sha256(data: bytes | mmap.mmap) -> str:
    return hashlib.sha256(data).hexdigest()


def vouch(sha256: str) -> None:
    """Record that a zip with this sha256 passed `verify_zip` (in the build that stored it in the cache)."""
    _VERIFIED.add(sha256)


def verify_build(build: BuildResult) -> None:
    """The check before publishing (the Pulumi program's `SharedLayer`): the zip about to be uploaded is
    the one that was built and verified, byte for byte, and every entry is sound."""
    verify_zip(build.zip_path, build.sha256,
               remedy=f"nothing was published; run `layersmith build {build.variant.layer}` and deploy again")


def first_bad_entry(data: bytes | mmap.mmap, known: Mapping[str, KnownStream] | None = None) -> str | None:
    """What is wrong with the first damaged entry of the zip in `data`, None when every entry is sound."""
    infos = (_central_directory(data) if known else None) or _zipfile_entries(data)
    if isinstance(infos, str):
        return infos
    view = memoryview(data)
    # Known entries are compared here, in order; only the rest go to the pool (a thread hand-off per
    # entry cost more than comparing one). The first problem in the zip's order is reported either way.
    found: dict[int, str] = {}
    rest: list[int] = []
    checked = known or {}
    for index, info in enumerate(infos):
        stream = _known_match(view, info, checked.get(info.filename))
        if stream is None:
            rest.append(index)
        elif stream:
            found[index] = stream
    found.update(_inflated_problems(view, infos, rest))
    if found:
        first = min(found)
        return f"{infos[first].filename}: {found[first]}"
    return None


def _inflated_problems(view: memoryview, infos: list[_Entry], rest: list[int]) -> dict[int, str]:
    """{index: problem} of the entries `rest` names, each inflated and CRC-checked. libdeflate releases the
    GIL: inflate on every core, unless there are only a few (a rebuild's manifest and new package). Problems
    are read back in the zip's order, so the one reported does not depend on which thread finished first."""
    if len(rest) <= _INLINE_ENTRIES:
        problems: Iterable[str | None] = [_entry_problem(view, infos[i]) for i in rest]
        return {index: problem for index, problem in zip(rest, problems, strict=True) if problem is not None}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        problems = pool.map(lambda i: _entry_problem(view, infos[i]), rest)
        return {index: problem for index, problem in zip(rest, problems, strict=True) if problem is not None}


def _zipfile_entries(data: bytes | mmap.mmap) -> list[_Entry] | str:
    """The entries as zipfile reads them, or why it cannot."""
    import zipfile  # here: a new build's zip is read by `_central_directory`

    try:
        return [_Entry(i.filename, i.header_offset, i.compress_type, i.CRC, i.compress_size, i.file_size)
                for i in zipfile.ZipFile(io.BytesIO(data)).infolist()]
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError) as exc:
        # NotImplementedError: a damaged "version needed" field (zipfile refuses such a zip)
        return f"unreadable central directory ({exc})"


def _central_directory(data: bytes | mmap.mmap) -> list[_Entry] | None:
    """The entries `zipfile` reads from a zip laid out as `zipwriter` writes it, without building a ZipInfo
    per entry (50 ms for data-science's 2,771); None for any other layout, which zipfile then reads.

    Read as zipfile reads it (`_EndRecData`, `_RealGetContents` of CPython 3.11): the end record in
    the last 22 bytes without a comment, and no Zip64 locator before it; the central directory right
    before the end record, so no bytes precede the zip (zipfile's `concat` is 0 and the offsets are
    as recorded); records read back to back until the directory's recorded size. What zipfile would
    treat otherwise makes this return None: an extra field (Zip64 sizes), a name with a NUL (zipfile
    cuts it there) or not decodable, a version zipfile refuses, a record past the directory's end."""
    end = len(data) - _END.size
    if end < 0:
        return None
    magic, _disk, _cd_disk, _here, _total, cd_size, cd_offset, comment = _END.unpack_from(data, end)
    if (magic != b"PK\x05\x06" or comment or cd_offset + cd_size != end
            or data[end - _ZIP64_LOCATOR:end - _ZIP64_LOCATOR + 4] == b"PK\x06\x07"):
        return None
    entries: list[_Entry] = []
    pos = cd_offset
    while pos < end:
        entry = _central_record(data, pos, end)
        if entry is None:
            return None
        entries.append(entry[0])
        pos = entry[1]
    return entries


def _central_record(data: bytes | mmap.mmap, pos: int, end: int) -> tuple[_Entry, int] | None:
    """The central record at `pos` and where the next starts; None when zipfile could read it otherwise."""
    if pos + _CENTRAL.size > end:
        return None
    (magic, _made_by, _system, extract_version, _reserved, flags, method, _time, _date, crc, csize, size,
     name_len, extra_len, comment_len, _disk, _internal, _external, offset) = _CENTRAL.unpack_from(data, pos)
    start = pos + _CENTRAL.size
    if (magic != b"PK\x01\x02" or extra_len or extract_version > _MAX_EXTRACT_VERSION
            or start + name_len + comment_len > end):
        return None
    try:
        name = data[start:start + name_len].decode("utf-8" if flags & _UTF8 else "cp437")
    except UnicodeDecodeError:
        return None
    if "\0" in name:
        return None
    return _Entry(name, offset, method, crc, csize, size), start + name_len + comment_len


def _known_match(view: memoryview, info: _Entry, stream: KnownStream | None) -> str | None:
    """"" when the entry is `stream`'s bytes under headers that say so (sound, as that stream was checked);
    a problem when its local header is unusable; None when it must be inflated to tell."""
    if stream is None or info.compress_type != _DEFLATED:
        return None
    header = _local_header(view, info)
    if isinstance(header, str):
        return header
    crc, csize, size, start = header  # equal to the central directory's (`_local_header` checked)
    if ((crc, size, csize) != (stream.crc, stream.size, stream.span())
            or not 0 <= stream.offset <= len(stream.data) - csize):
        return None
    # bytes.startswith(buffer, at) is a memcmp of the checked stream against the zip's bytes, without copying
    # either (the sizes are equal, checked above; `view` may map the file). hmac.compare_digest, used before,
    # is a constant-time loop: 5x slower on the 32 MB data-science layer, for a secret there is none of;
    # memoryview's == goes item by item, slower still.
    return "" if stream.data.startswith(view[start:start + csize], stream.offset) else None


def _local_header(view: memoryview, info: _Entry) -> str | tuple[int, int, int, int]:
    """(crc, compressed size, size, where the stream starts) from the entry's local header, checked against
    the central directory; or what is wrong with it."""
    offset = info.header_offset
    # zipfile derives the offset from the central directory's, less any prefix it infers: a damaged one
    # can make it negative, and a slice from there is not a header (struct.error, an internal error)
    if offset < 0 or offset + _LOCAL.size > len(view):
        return "local header outside the file"
    (magic, _v, _s, _flags, method, _t, _d, crc, csize, size, name_len,
     extra_len) = _LOCAL.unpack(view[offset:offset + _LOCAL.size])
    if magic != b"PK\x03\x04":
        return "no local header where the central directory points"
    if (method, crc, csize, size) != (info.compress_type, info.CRC, info.compress_size, info.file_size):
        return "local header disagrees with the central directory"
    start = offset + _LOCAL.size + name_len + extra_len
    if start + csize > len(view):
        return "data past the end of the file"
    return crc, csize, size, start


def _entry_problem(view: memoryview, info: _Entry) -> str | None:
    header = _local_header(view, info)
    if isinstance(header, str):
        return header
    crc, csize, size, start = header
    stream = view[start:start + csize]
    method = info.compress_type
    if method == _STORED:
        raw: bytes | bytearray | memoryview = stream
    elif method == _DEFLATED:
        inflated = _inflate(stream, size)
        if inflated is None:
            return "corrupt deflate stream"
        raw = inflated
    else:
        return f"compression method {method}, which layersmith never writes"
    if len(raw) != size:
        return f"inflates to {len(raw)} bytes, not {size}"
    if deflate.crc32(raw) != crc:
        return "CRC-32 mismatch"
    return None


def _inflate(stream: memoryview, size: int) -> bytes | bytearray | None:
    """The raw deflate `stream` inflated into `size` bytes; None when it is not a sound stream.
    libdeflate is not asked to inflate into 0 bytes (it returns b"" unread): an empty file's stream
    (every empty __init__.py) is checked by zlib, which is what unzip uses."""
    if size:
        try:
            return deflate.deflate_decompress(stream, size)
        except deflate.DeflateError:
            return None
    inflater = zlib.decompressobj(-15)
    try:
        raw = inflater.decompress(stream) + inflater.flush()
    except zlib.error:
        return None
    return raw if inflater.eof and not inflater.unused_data else None
