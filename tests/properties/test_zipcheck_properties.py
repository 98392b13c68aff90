"""The zip check's shortcut (issue 25) against its reference, on generated zips and damage.

Reference: inflate and CRC-check every entry (`first_bad_entry(data)`, what every zip got before).
Shortcut: an entry whose headers and bytes equal a stream checked when its piece was made is compared,
not inflated (`first_bad_entry(data, known)`). With sound known streams the two must agree on every zip,
damaged anywhere or not: a flip the shortcut lets through would ship a corrupt layer."""

from __future__ import annotations

import io
import zipfile

from hypothesis import given
from hypothesis import strategies as st

from layersmith.builder.archive import DOS_DATE, DOS_TIME
from layersmith.builder.zipcheck import KnownStream, _central_directory, first_bad_entry
from layersmith.builder.zipwriter import crc32, deflate_raw, packed, write_packed

names = st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6})?\.py", fullmatch=True)
contents = st.binary(min_size=0, max_size=300)


def _zip(files: dict[str, bytes]) -> tuple[bytes, dict[str, KnownStream]]:
    known = {name: KnownStream(crc32(body), len(body), deflate_raw(body, 6)) for name, body in files.items()}
    out = io.BytesIO()
    write_packed(out, ((0o100644, packed(n, k.crc, k.size, k.data)) for n, k in sorted(known.items())),
                 dos_date=DOS_DATE, dos_time=DOS_TIME)
    return out.getvalue(), known


@given(files=st.dictionaries(names, contents, min_size=1, max_size=5), where=st.floats(0, 1, exclude_max=True),
       flip=st.integers(1, 255), damaged=st.booleans())
def test_the_shortcut_agrees_with_inflating_everything(files: dict[str, bytes], where: float, flip: int,
                                                       damaged: bool) -> None:
    data, known = _zip(files)
    assert first_bad_entry(data) is None and first_bad_entry(data, known) is None
    if damaged:
        at = int(where * len(data))
        data = data[:at] + bytes([data[at] ^ flip]) + data[at + 1:]
    assert (first_bad_entry(data, known) is None) == (first_bad_entry(data) is None)


def _stream_spans(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each entry's compressed bytes, from its local header (30 bytes + name + extra)."""
    spans = []
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        o = info.header_offset
        start = o + 30 + int.from_bytes(data[o + 26:o + 28], "little") + int.from_bytes(data[o + 28:o + 30], "little")
        spans.append((start, info.compress_size))
    return spans


@given(files=st.dictionaries(names, contents, min_size=1, max_size=5), where=st.floats(0, 1, exclude_max=True),
       flip=st.integers(1, 255))
def test_a_flipped_stream_byte_is_found_or_harmless(files: dict[str, bytes], where: float, flip: int) -> None:
    """Damage inside a compressed stream (what a bad disk does to a piece's data.bin), known entry or
    not: reported, or the zip still extracts every file with its own bytes (a flip in a deflate
    stream's padding can leave its output unchanged)."""
    data, known = _zip(files)
    streams = [span for span in _stream_spans(data) if span[1]]
    start, length = streams[int(where * len(streams))]
    at = start + int(where * length * 7919) % length
    damaged = data[:at] + bytes([data[at] ^ flip]) + data[at + 1:]
    if first_bad_entry(damaged, known) is None:
        archive = zipfile.ZipFile(io.BytesIO(damaged))
        assert {name: archive.read(name) for name in files} == files


def _zipfile_entries(data: bytes) -> list[tuple[str, int, int, int, int, int]] | None:
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError):
        return None
    return [(i.filename, i.header_offset, i.compress_type, i.CRC, i.compress_size, i.file_size) for i in infos]


@given(files=st.dictionaries(names, contents, min_size=1, max_size=5), where=st.floats(0, 1, exclude_max=True),
       flip=st.integers(1, 255), in_directory=st.booleans())
def test_the_central_directory_is_read_as_zipfile_reads_it(files: dict[str, bytes], where: float, flip: int,
                                                          in_directory: bool) -> None:
    """The check's own reader of the central directory (issue 25: zipfile's took 50 ms on data-science) gives
    zipfile's entries, or declines and zipfile reads the zip: never other names, offsets, CRCs or sizes. Damage
    goes anywhere, or into the central directory and end record (the bytes the reader reads)."""
    data, _ = _zip(files)
    assert _central_directory(data) == _zipfile_entries(data)  # a sound zip is read without zipfile
    start = int.from_bytes(data[-6:-2], "little") if in_directory else 0
    at = start + int(where * (len(data) - start))
    damaged = data[:at] + bytes([data[at] ^ flip]) + data[at + 1:]
    ours = _central_directory(damaged)
    assert ours is None or ours == _zipfile_entries(damaged)
