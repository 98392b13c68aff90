"""Fault injection for the build cache: every kind of file it holds × flip / truncate / delete / directory.

Each fault must be detected and either rebuilt, byte-identical to a build into an empty cache, or
refused in one line naming the file. A damaged file is never shipped: every zip a build returns
passes `zipfile.testzip` and has the sha256 it reports. The kinds are not a hand-kept list:
`test_the_matrix_covers_every_kind_of_file_a_real_cache_holds` classifies every file of a real
cache, so a new kind of file fails that test until it joins the matrix.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes import FakeDist, FakeInstaller
from helpers import write_layer

from layersmith.builder.builder import Builder
from layersmith.builder.cache import _HOST, ZIP, BuildCache
from layersmith.builder.function_zip import package_function
from layersmith.builder.pieces import PIECES
from layersmith.builder.zipcheck import verify_build, verify_zip
from layersmith.errors import LayersmithError, VerificationError
from layersmith.model import BuildResult, FunctionSpec, LayerSpec, expand_variants
from layersmith.project.specs import load_layer

# kind -> the relative paths (under the cache root) it covers
KINDS: dict[str, re.Pattern[str]] = {
    "zip": re.compile(r"[^./][^/]*/[^/]+-[0-9a-f]{16}/layer\.zip"),
    "result": re.compile(r"[^./][^/]*/[^/]+-[0-9a-f]{16}/result\.json"),
    "piece-index": re.compile(r"\.pieces/[0-9a-f]{2}/[0-9a-f]{64}/index\.json"),
    "piece-data": re.compile(r"\.pieces/[0-9a-f]{2}/[0-9a-f]{64}/data\.bin"),
    "lock": re.compile(r"\.locks/[^/]+\.lock"),
    "scratch": re.compile(r"\.tmp/\d+-[^/]+/.+"),
    # the program's (`<cache>/functions`) and `invoke`'s (`<cache>/.invoke/packages/functions`)
    "function-zip": re.compile(r"(\.invoke/packages/)?functions/[^/]+/[0-9a-f]{16}\.zip"),
}
FAULTS = ("flip", "truncate", "delete", "directory")
# Faults the cache cannot repair by itself, refused in one line naming the file instead: a directory
# where the cache writes a file may hold someone's data, so it is not deleted.
REFUSED = {("lock", "directory"), ("function-zip", "directory")}
_ORDER = ("function-zip", *KINDS)  # functions/x/<16 hex>.zip would also match no layer pattern, but be explicit


def kind_of(rel: str) -> str | None:
    return next((k for k in _ORDER if KINDS[k].fullmatch(rel)), None)


@dataclass
class Fleet:
    """A project with one layer (a pure package, a compiled one, own sources) and one function."""

    spec: LayerSpec
    function: FunctionSpec

    def build(self, cache: BuildCache, messages: list[str] | None = None) -> BuildResult:
        [variant] = expand_variants(self.spec)
        report = messages.append if messages is not None else (lambda _m: None)
        return Builder(FakeInstaller({"beta": FakeDist(compiled=True)}), cache, report).build(self.spec, variant)

    def package(self, cache: BuildCache) -> Path:
        return package_function(self.function, cache.root).zip_path


def make_fleet(project: Path) -> Fleet:
    spec = load_layer(write_layer(project, "demo", pins=("alpha==1.0", "beta==2.0"),
                                  source={"own/__init__.py": "x = 1\n", "own/data.txt": "data " * 400}))
    fn_dir = project / "functions" / "report"
    fn_dir.mkdir(parents=True)
    (fn_dir / "handler.py").write_text("def handler(event, context):\n    return 1\n", encoding="utf-8")
    function = FunctionSpec(name="report", directory=fn_dir, handler="handler.handler", runtime="python3.11",
                            architecture="x86_64", layers=("demo",), memory=128, timeout=3)
    return Fleet(spec, function)


def dead_pid() -> int:
    """The pid of a process that has exited (the owner of an interrupted build's scratch directory)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    return int(done.stdout)


def populate(fleet: Fleet, cache: BuildCache) -> None:
    """Every kind of file a cache gets from use: a build, a function package, an interrupted build."""
    fleet.build(cache)
    fleet.package(cache)
    package_function(fleet.function, cache.root / ".invoke" / "packages")  # where `invoke` packages it
    leftover = cache.root / ".tmp" / f"{dead_pid()}-{_HOST}-x1y2z3" / "layer" / "python"
    leftover.mkdir(parents=True)
    (leftover / "half.py").write_text("half = 'installed'\n" * 50, encoding="utf-8")


def files_of(cache: BuildCache) -> list[str]:
    return sorted(p.relative_to(cache.root).as_posix() for p in cache.root.rglob("*") if p.is_file())


@dataclass(frozen=True)
class Reference:
    layer_zip: bytes
    function_zip: bytes


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """What a build into an empty cache gives."""
    root = tmp_path_factory.mktemp("reference")
    fleet = make_fleet(root / "project")
    cache = BuildCache(root / "cache")
    return Reference(fleet.build(cache).zip_path.read_bytes(), fleet.package(cache).read_bytes())


def inject(path: Path, fault: str) -> None:
    if fault == "flip":  # 8 bytes at 4096 as in the issue, or in the middle of a smaller file
        data = bytearray(path.read_bytes() or b"\0" * 8)
        at = 4096 if len(data) >= 4096 + 8 else max(0, len(data) // 2 - 4)
        for i in range(at, min(at + 8, len(data))):
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))
    elif fault == "truncate":
        os.truncate(path, path.stat().st_size // 2)
    elif fault == "delete":
        path.unlink()
    else:  # a directory in its place, not empty (so only a deliberate rmtree could remove it)
        path.unlink()
        path.mkdir()
        (path / "something").write_text("not the cache's\n", encoding="utf-8")


def sound(result: BuildResult) -> None:
    """What "never shipped damaged" means for one returned build."""
    data = result.zip_path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == result.sha256
    with zipfile.ZipFile(result.zip_path) as zf:
        assert zf.testzip() is None
    verify_build(result)


def test_the_matrix_covers_every_kind_of_file_a_real_cache_holds(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "cache")
    populate(make_fleet(tmp_path / "project"), cache)
    found = {rel: kind_of(rel) for rel in files_of(cache)}
    assert [rel for rel, kind in found.items() if kind is None] == []  # a new kind of file: add it to KINDS
    assert set(found.values()) == set(KINDS)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_fault(tmp_path: Path, reference: Reference, kind: str, fault: str) -> None:
    fleet = make_fleet(tmp_path / "project")
    cache = BuildCache(tmp_path / "cache")
    populate(fleet, cache)
    victims = [cache.root / rel for rel in files_of(cache) if kind_of(rel) == kind]
    victim = max(victims, key=lambda p: (p.stat().st_size, p.as_posix()))  # the largest, as in the issue
    inject(victim, fault)
    if kind not in ("zip", "result", "function-zip"):
        # A cache hit reads no piece, lock or scratch area: remove the entry so the build goes through them.
        for entry in (cache.root / fleet.spec.name).iterdir():
            (entry / ZIP).unlink(missing_ok=True)

    messages: list[str] = []
    run = (lambda: fleet.package(cache)) if kind == "function-zip" else (lambda: fleet.build(cache, messages))
    if (kind, fault) in REFUSED:
        with pytest.raises(LayersmithError) as refused:
            run()
        line = str(refused.value)
        assert "\n" not in line and victim.name in line and "remove it" in line
        return

    if kind == "function-zip":
        assert fleet.package(cache).read_bytes() == reference.function_zip
        return
    result = fleet.build(cache, messages)
    assert not result.cached  # detected: the damaged entry was not served
    assert result.zip_path.read_bytes() == reference.layer_zip
    sound(result)
    if kind.startswith("piece-") and fault != "delete":
        assert any("discarding cache piece" in m and ": damaged: " in m for m in messages), messages
    if kind == "scratch":
        assert not victim.parent.parent.parent.exists()  # the dead build's scratch directory was swept
    again = fleet.build(cache)
    assert again.cached and again.zip_path.read_bytes() == reference.layer_zip  # the cache healed


def test_a_damaged_piece_is_rebuilt_not_shipped(tmp_path: Path, reference: Reference) -> None:
    """Issue 22, defect 2, on a small layer: 8 bytes overwritten in the largest data.bin, the layer's
    zip directory deleted, then a build. It used to report "built" with a new sha256 and a zip whose
    testzip failed."""
    fleet = make_fleet(tmp_path / "project")
    cache = BuildCache(tmp_path / "cache")
    fleet.build(cache)
    data_bin = max((cache.root / PIECES).rglob("data.bin"), key=lambda p: p.stat().st_size)
    with data_bin.open("r+b") as fh:
        fh.seek(min(4096, data_bin.stat().st_size // 2))
        fh.write(b"XXXXXXXX")
    for entry in (cache.root / "demo").iterdir():
        for f in entry.iterdir():
            f.unlink()
        entry.rmdir()
    result = fleet.build(cache)
    assert not result.cached
    sound(result)
    assert result.zip_path.read_bytes() == reference.layer_zip


@pytest.mark.parametrize("area", [".tmp", ".locks", PIECES, "demo"])
def test_a_file_where_the_cache_keeps_a_directory_is_refused_in_one_line(tmp_path: Path, area: str) -> None:
    fleet = make_fleet(tmp_path / "project")
    cache = BuildCache(tmp_path / "cache")
    cache.root.mkdir()
    (cache.root / area).write_text("not a directory\n", encoding="utf-8")
    with pytest.raises(LayersmithError) as refused:
        fleet.build(cache)
    line = str(refused.value)
    assert "\n" not in line and line.startswith(str(cache.root / area)) and "remove it" in line


def test_a_zip_with_a_corrupt_entry_and_the_right_sha256_is_refused(tmp_path: Path) -> None:
    """What stops a damaged zip whatever damaged it: the CRC of every entry, not only the file's hash."""
    fleet = make_fleet(tmp_path / "project")
    cache = BuildCache(tmp_path / "cache")
    good = fleet.build(cache)
    data = bytearray(good.zip_path.read_bytes())
    with zipfile.ZipFile(good.zip_path) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
    start = info.header_offset + 30 + len(info.filename.encode())
    data[start + info.compress_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    with pytest.raises(VerificationError) as refused:
        verify_zip(damaged, hashlib.sha256(data).hexdigest(), remedy="build it again")
    assert info.filename in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(VerificationError, match="sha256"):
        verify_zip(damaged, good.sha256, remedy="build it again")


def test_a_result_json_with_a_changed_value_is_not_a_hit(tmp_path: Path, reference: Reference) -> None:
    """A flip that keeps result.json valid JSON (a digit of a size): its own hash no longer matches."""
    import json

    fleet = make_fleet(tmp_path / "project")
    cache = BuildCache(tmp_path / "cache")
    entry = fleet.build(cache).zip_path.parent
    data = json.loads((entry / "result.json").read_text(encoding="utf-8"))
    data["unzipped_bytes"] += 1
    (entry / "result.json").write_text(json.dumps(data), encoding="utf-8")
    assert cache.lookup(entry) is None
    again = fleet.build(cache)
    assert not again.cached and again.zip_path.read_bytes() == reference.layer_zip


def test_a_zip_that_fails_its_crc_check_is_never_called_built(tmp_path: Path) -> None:
    """The gate after assembly, for what the pieces' hashes cannot see: a piece written with a wrong CRC
    (a bug, not damage, so its index hash is consistent). The build refuses, naming the entry, and stores
    no entry a later build could serve."""
    import json

    from layersmith.builder.pieces import _index_check

    fleet = make_fleet(tmp_path / "project")
    cache = BuildCache(tmp_path / "cache")
    first = fleet.build(cache)
    index_file = max((cache.root / PIECES).rglob("index.json"), key=lambda p: p.stat().st_size)
    index = json.loads(index_file.read_text(encoding="utf-8"))
    index["entries"][0]["crc"] ^= 1
    index["check"] = _index_check(index)
    index_file.write_text(json.dumps(index, sort_keys=True), encoding="utf-8")
    entry = first.zip_path.parent
    for f in entry.iterdir():
        f.unlink()
    entry.rmdir()
    with pytest.raises(VerificationError) as refused:
        fleet.build(cache)
    assert f"{index['entries'][0]['name']}: CRC-32 mismatch" in str(refused.value)
    assert not entry.exists()


def test_a_dead_builds_scratch_entry_is_swept_even_when_it_is_a_file(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "project")
    cache = BuildCache(tmp_path / "cache")
    stray = cache.root / ".tmp" / f"{dead_pid()}-{_HOST}-f1l3"
    stray.parent.mkdir(parents=True)
    stray.write_text("a scratch directory replaced by a file\n", encoding="utf-8")
    fleet.build(cache)
    assert not stray.exists()
