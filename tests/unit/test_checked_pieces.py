"""The one-package rebuild's zip check (issue 25): every stream is inflated once, when its piece is made;
a zip copying it is then checked by comparing bytes, and anything that is not exactly a checked stream
is inflated and CRC-checked as before. The output stays byte-identical to a cold build."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from fakes import FakeDist, FakeInstaller
from helpers import lock_text, write_layer

from layersmith.builder.archive import DOS_DATE, DOS_TIME, manifest_path
from layersmith.builder.assemble import assemble
from layersmith.builder.builder import Builder
from layersmith.builder.cache import RESULT, BuildCache
from layersmith.builder.pieces import PieceStore, _index_check
from layersmith.builder.zipcheck import KnownStream, _central_directory, first_bad_entry, verify_zip
from layersmith.builder.zipwriter import crc32, deflate_raw, packed, write_packed
from layersmith.errors import VerificationError
from layersmith.model import BuildResult, LayerSpec, expand_variants
from layersmith.project.specs import load_layer

GOOD = b"print('hello')\n" * 200


def _zip(entries: dict[str, tuple[int, int, bytes]]) -> bytes:
    """A zip of name -> (crc, size, stream), written by the layer zips' own writer."""
    out = io.BytesIO()
    write_packed(out, ((0o100644, packed(n, c, s, d)) for n, (c, s, d) in sorted(entries.items())),
                 dos_date=DOS_DATE, dos_time=DOS_TIME)
    return out.getvalue()


def test_an_entry_equal_to_its_known_stream_is_compared_not_inflated() -> None:
    """The contract, shown with a stream that would fail inflation: a known entry is trusted because its
    bytes are a stream already checked, so it must not be inflated again (that was the 0.7 s)."""
    garbage = b"\xff" * 64  # not a deflate stream: inflating it fails
    data = _zip({"a.py": (crc32(GOOD), len(GOOD), garbage)})
    assert first_bad_entry(data) == "a.py: corrupt deflate stream"
    assert first_bad_entry(data, {"a.py": KnownStream(crc32(GOOD), len(GOOD), garbage)}) is None


@pytest.mark.parametrize(("offset", "length", "compared"), [
    (5, 64, True),  # the stream's span in its piece's bytes
    (4, 64, False), (6, 64, False), (5, 63, False),  # any other span: inflated (and this garbage fails)
    (-69, 64, False),  # a negative offset is no span (bytes.startswith would count it from the end)
    (5, -1, False),  # "to the end" is 64 + 7 bytes here: not this entry's size
])
def test_a_known_stream_is_a_span_of_its_pieces_bytes_compared_in_place(offset: int, length: int,
                                                                       compared: bool) -> None:
    """An assembled zip's known streams are spans of their pieces' data.bin (no copy per entry), and the zip
    is mapped, not read: the comparison is of exactly that span, and only an exact one skips inflating."""
    garbage = b"\xff" * 64
    data = _zip({"a.py": (crc32(GOOD), len(GOOD), garbage)})
    piece = b"12345" + garbage + b"7654321"
    problem = first_bad_entry(data, {"a.py": KnownStream(crc32(GOOD), len(GOOD), piece, offset, length)})
    assert problem == (None if compared else "a.py: corrupt deflate stream")


def test_a_new_builds_zip_is_checked_from_the_mapped_file(tmp_path: Path) -> None:
    garbage = b"\xff" * 64
    zip_path = tmp_path / "layer.zip"
    zip_path.write_bytes(data := _zip({"a.py": (crc32(GOOD), len(GOOD), garbage)}))
    known = {"a.py": KnownStream(crc32(GOOD), len(GOOD), b"xx" + garbage, 2, 64)}
    verify_zip(zip_path, hashlib.sha256(data).hexdigest(), remedy="again", known=known)
    damaged = bytearray(data)
    damaged[40] ^= 0xFF  # in the stream: no longer the known one, so inflated, and refused
    zip_path.write_bytes(bytes(damaged))
    with pytest.raises(VerificationError, match=r"a\.py: corrupt deflate stream"):
        verify_zip(zip_path, hashlib.sha256(damaged).hexdigest(), remedy="again", known=known)
    zip_path.write_bytes(b"")
    with pytest.raises(VerificationError, match="unreadable central directory"):
        verify_zip(zip_path, hashlib.sha256(b"").hexdigest(), remedy="again", known=known)


@pytest.mark.parametrize("change", ["stream byte", "crc", "size", "name"])
def test_an_entry_that_differs_from_its_known_stream_in_any_way_is_inflated(change: str) -> None:
    good = deflate_raw(GOOD, 6)
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    data = _zip({"a.py": (crc32(GOOD), len(GOOD), bytes(bad))})
    known = {"stream byte": {"a.py": KnownStream(crc32(GOOD), len(GOOD), good)},
             "crc": {"a.py": KnownStream(crc32(GOOD) ^ 1, len(GOOD), bytes(bad))},
             "size": {"a.py": KnownStream(crc32(GOOD), len(GOOD) + 1, bytes(bad))},
             "name": {"b.py": KnownStream(crc32(GOOD), len(GOOD), bytes(bad))}}[change]
    problem = first_bad_entry(data, known)
    assert problem is not None and problem.startswith("a.py: ")


def test_problems_are_reported_in_zip_order_whether_compared_or_inflated() -> None:
    good = deflate_raw(GOOD, 6)
    data = bytearray(_zip({"a.py": (crc32(GOOD), len(GOOD), good), "b.py": (crc32(GOOD) ^ 1, len(GOOD), good)}))
    data[data.index(b"PK\x03\x04")] ^= 0xFF  # a.py's local header: unusable, so reported first
    problem = first_bad_entry(bytes(data), {"a.py": KnownStream(crc32(GOOD), len(GOOD), good)})
    assert problem == "a.py: no local header where the central directory points"


def _entries(data: bytes) -> list[tuple[str, int, int, int, int, int]] | None:
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        return None
    return [(i.filename, i.header_offset, i.compress_type, i.CRC, i.compress_size, i.file_size) for i in infos]


@pytest.mark.parametrize("layout", ["sound", "bytes before the zip", "archive comment", "extra field", "NUL in a name",
                                    "zip64 locator"])
def test_the_central_directory_reader_reads_only_the_writers_layout(layout: str) -> None:
    """The check reads the central directory itself (zipfile's reader took 50 ms per data-science zip) when
    the zip is laid out as layersmith writes it; for anything else it declines and zipfile reads the zip,
    so what the check sees is always what zipfile sees."""
    stream = deflate_raw(GOOD, 6)
    names = {"NUL in a name": "b\0.py",  # zipfile cuts the name at the NUL
             # the 20 bytes before the end record read as a Zip64 locator (naming 16843009 disks)
             "zip64 locator": "b.pyPK\x06\x07" + "\x01" * 16}
    data = _zip({"a.py": (crc32(GOOD), len(GOOD), stream), names.get(layout, "b.py"): (crc32(GOOD), len(GOOD), stream)})
    if layout == "bytes before the zip":  # zipfile shifts every offset by the prefix (its `concat`)
        data = b"#!/bin/sh\n" + data
    elif layout == "archive comment":
        data = data[:-2] + (4).to_bytes(2, "little") + b"note"
    elif layout == "extra field":  # zipfile reads Zip64 sizes and offsets from extra fields
        info = zipfile.ZipInfo("a.py")
        info.extra = b"\xfe\xca\x00\x00"  # an empty extra block, as jar tools write
        with zipfile.ZipFile(out := io.BytesIO(), "w") as archive:
            archive.writestr(info, GOOD)
        data = out.getvalue()
    ours = _central_directory(data)
    if layout == "sound":
        assert ours == _entries(data) and ours is not None and len(ours) == 2
    else:
        assert ours is None
        assert first_bad_entry(data, {}) == first_bad_entry(data, {"a.py": KnownStream(crc32(GOOD), len(GOOD), stream)})


# --- through the builder ------------------------------------------------------------------------------

def _spec(project: Path, *pins: str) -> LayerSpec:
    return load_layer(write_layer(project, "demo", pins=pins, source={"own/__init__.py": "x = 1\n"}))


def _build(spec: LayerSpec, cache: BuildCache) -> BuildResult:
    [variant] = expand_variants(spec)
    return Builder(FakeInstaller({"fast": FakeDist(compiled=True)}), cache).build(spec, variant)


def _reassemble(result: BuildResult, cache: BuildCache, dest: Path) -> tuple[set[str], set[str]]:
    """Assemble the build's pieces again: (the names the zip check compares, every name in the zip)."""
    stored = json.loads((result.zip_path.parent / RESULT).read_text(encoding="utf-8"))
    store = PieceStore(cache.root)
    pieces = [store.get(key) for key in stored["pieces"]]
    assert all(p is not None and p.checked for p in pieces)
    manifest = json.loads(_read(result.zip_path, manifest_path("demo")))
    manifest.pop("content_sha256")
    done = assemble([p for p in pieces if p is not None], "demo", manifest, dest)
    assert dest.read_bytes() == result.zip_path.read_bytes()
    names = {e.name for p in pieces if p is not None for e in p.entries} | {manifest_path("demo")}
    return set(done.known), names


def _read(zip_path: Path, name: str) -> bytes:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.read(name)


def test_after_a_one_package_bump_only_the_manifest_is_inflated_and_the_zip_equals_a_cold_one(
        project: Path, tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "warm")
    spec = _spec(project, "alpha==1.0", "fast==2.0", "gamma==3.0")
    _build(spec, cache)
    assert spec.requirements is not None
    spec.requirements.write_text(lock_text("alpha==1.0", "fast==2.0", "gamma==3.1"), encoding="utf-8")
    bumped = _build(spec, cache)
    assert (bumped.pieces_reused, bumped.pieces_built) == (3, 1)
    known, names = _reassemble(bumped, cache, tmp_path / "again.zip")
    assert known == names - {manifest_path("demo")}  # gamma's new streams were checked when its piece was made
    cold = _build(spec, BuildCache(tmp_path / "cold"))
    assert bumped.zip_path.read_bytes() == cold.zip_path.read_bytes()


def _rewrite_piece(cache: BuildCache, *, recorded: bool) -> Path:
    """Flip a byte in the first stream of the largest piece as a bug (not damage) would: data.bin's sha256
    and the index's own hash recomputed, so the store loads it. `recorded=False`: also drop "checked", as
    in a piece made before pieces were checked. Returns the piece's directory."""
    index_file = max((cache.root / ".pieces").rglob("index.json"), key=lambda p: p.stat().st_size)
    index = json.loads(index_file.read_text(encoding="utf-8"))
    first = index["entries"][0]
    data = bytearray((index_file.parent / "data.bin").read_bytes())
    data[first["offset"] + first["csize"] // 2] ^= 0xFF
    (index_file.parent / "data.bin").write_bytes(bytes(data))
    index["data_sha256"] = hashlib.sha256(data).hexdigest()
    if not recorded:
        index.pop("checked")
    index["check"] = _index_check(index)
    index_file.write_text(json.dumps(index, sort_keys=True), encoding="utf-8")
    return index_file.parent


@pytest.mark.parametrize("recorded", [True, False], ids=["checked-then-changed", "never-checked"])
def test_a_piece_that_is_not_what_was_checked_is_inflated_and_never_called_built(
        project: Path, tmp_path: Path, recorded: bool) -> None:
    """The fault test: stored bytes that are not the checked ones never reach a "built" zip, even when the
    store's own hashes agree with them. The entry is inflated, fails, and nothing is stored."""
    spec = _spec(project, "alpha==1.0", "fast==2.0", "gamma==3.0")
    cache = BuildCache(tmp_path / "cache")
    first = _build(spec, cache)
    directory = _rewrite_piece(cache, recorded=recorded)
    entry = first.zip_path.parent
    for f in entry.iterdir():
        f.unlink()
    entry.rmdir()
    piece = PieceStore(cache.root).get(directory.name)
    assert piece is not None and not piece.checked
    with pytest.raises(VerificationError) as refused:
        _build(spec, cache)
    assert f"{piece.entries[0].name}: " in str(refused.value) and not entry.exists()


def test_a_zip_damaged_after_its_check_is_still_refused_by_its_sha256(project: Path, tmp_path: Path) -> None:
    """Comparing instead of inflating does not loosen the gate before publishing: it re-hashes the file."""
    spec = _spec(project, "alpha==1.0", "fast==2.0")
    built = _build(spec, BuildCache(tmp_path / "cache"))
    data = bytearray(built.zip_path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match="sha256"):
        verify_zip(damaged, built.sha256, remedy="build it again")
