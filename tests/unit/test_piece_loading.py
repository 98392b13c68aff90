"""Stored pieces are read and verified in a thread while the missing packages are installed (issue 25):
a piece that turns out damaged then is discarded and the build starts again without it, to the same
bytes as a cold build."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from fakes import FakeDist, FakeInstaller
from helpers import lock_text, write_layer

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.pieces import PIECES, PieceEntry, PieceStore, deflater, stage_piece
from layersmith.model import BuildResult, LayerSpec, expand_variants
from layersmith.project.specs import load_layer
from layersmith.runtimes.supported import Runtime

PINS = ("alpha==1.0", "fast==2.0", "gamma==3.0")
BUMPED = ("alpha==1.0", "fast==2.0", "gamma==3.1")


class WatchingInstaller(FakeInstaller):
    """Records the pins of each install and the threads alive while it ran."""

    def __init__(self) -> None:
        super().__init__({"fast": FakeDist(compiled=True)})
        self.asked: list[list[str]] = []
        self.threads: list[set[str]] = []

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
        self.asked.append([line.split()[0] for line in lock.read_text().splitlines() if "==" in line])
        self.threads.append({t.name.split("_")[0] for t in threading.enumerate()})
        super().install(lock, target, runtime, arch)


def _spec(project: Path, pins: tuple[str, ...]) -> LayerSpec:
    return load_layer(write_layer(project, "demo", pins=pins, source={"own/__init__.py": "x = 1\n"}))


def _build(spec: LayerSpec, cache: BuildCache, installer: FakeInstaller, messages: list[str] | None = None
           ) -> BuildResult:
    [variant] = expand_variants(spec)
    report = messages.append if messages is not None else (lambda _m: None)
    return Builder(installer, cache, report).build(spec, variant)


def _bump(spec: LayerSpec) -> None:
    assert spec.requirements is not None
    spec.requirements.write_text(lock_text(*BUMPED), encoding="utf-8")


def _data_bin_of(cache: BuildCache, dist: str) -> Path:
    [index] = [p for p in (cache.root / PIECES).glob("*/*/index.json")
               if (json.loads(p.read_text())["dist"] or {}).get("name") == dist]
    return index.with_name("data.bin")


def test_stored_pieces_are_read_while_the_missing_ones_are_installed(project: Path, tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "cache")
    spec = _spec(project, PINS)
    _build(spec, cache, WatchingInstaller())
    _bump(spec)
    installer = WatchingInstaller()
    result = _build(spec, cache, installer)
    assert installer.asked == [["gamma==3.1"]]
    assert "layersmith-pieces" in installer.threads[0]  # the loader was running during the install
    assert (result.pieces_reused, result.pieces_built) == (3, 1)


def test_a_piece_found_damaged_during_the_install_is_made_again_and_the_zip_equals_a_cold_one(
        project: Path, tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "cache")
    spec = _spec(project, PINS)
    _build(spec, cache, WatchingInstaller())
    data_bin = _data_bin_of(cache, "alpha")
    data = bytearray(data_bin.read_bytes())
    data[len(data) // 2] ^= 0xFF
    data_bin.write_bytes(bytes(data))
    _bump(spec)

    installer, messages = WatchingInstaller(), []
    bumped = _build(spec, cache, installer, messages)
    # gamma is installed while alpha's piece is read; alpha's is damaged, so the build starts again and
    # installs alpha (gamma's new piece is stored by then).
    assert installer.asked == [["gamma==3.1"], ["alpha==1.0"]]
    assert any("discarding cache piece" in m and ": damaged: " in m for m in messages)
    cold = _build(spec, BuildCache(tmp_path / "cold"), WatchingInstaller())
    assert bumped.zip_path.read_bytes() == cold.zip_path.read_bytes()
    assert bumped.sha256 == cold.sha256
    assert _build(spec, cache, WatchingInstaller()).cached


def _staged(tmp_path: Path, name: str) -> tuple[Path, list[PieceEntry], bool, str]:
    tree = tmp_path / f"tree-{name}"
    (tree / "pkg").mkdir(parents=True)
    for i in range(5):
        (tree / "pkg" / f"m{i}.py").write_text(f"VALUE = {i}\n" * (i + 1))
    files = [(f"python/pkg/m{i}.py", str(tree / "pkg" / f"m{i}.py")) for i in range(5)]
    with deflater(6, workers=0) as pool:
        entries, elf, checked = stage_piece(files, pool, tmp_path / "work" / name)
    return tmp_path / "work" / name, entries, elf, checked


def test_a_stored_piece_is_the_one_the_store_reads_back(tmp_path: Path) -> None:
    """`put` returns the piece from the bytes it hashed, without reading the directory again (issue 25):
    it must be the piece any later `get` reads, checked included; a piece another build stored first is
    read (and verified) instead of ours."""
    store = PieceStore(tmp_path / "cache")
    staged, entries, _, checked = _staged(tmp_path, "ours")
    dist = {"name": "pkg", "version": "1", "tags": ["py3-none-any"], "dist_info": "pkg-1.dist-info"}
    put = store.put("ab" * 32, staged, entries, dist, "cpython-311", checked)
    got = store.get("ab" * 32)
    assert got is not None and put.checked and (put, put.data) == (got, got.data)
    unchecked = store.put("cd" * 32, _staged(tmp_path, "unchecked")[0], entries, None, None, None)
    assert unchecked == store.get("cd" * 32) and not unchecked.checked
    second, *_ = _staged(tmp_path, "second")  # the same key again: the first one stays
    assert store.put("ab" * 32, second, entries, dist, "cpython-311", checked) == got and not second.exists()
