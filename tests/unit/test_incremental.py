"""Incremental builds: a variant is assembled from per-package pieces, and is byte-identical to a
build from scratch (issue 13)."""

from __future__ import annotations

from pathlib import Path

from fakes import FakeDist, FakeInstaller
from helpers import lock_text, write_layer

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.pieces import PieceStore
from layersmith.model import BuildResult, LayerSpec, expand_variants
from layersmith.project.specs import load_layer
from layersmith.runtimes.supported import Runtime

PINS = ("alpha==1.0", "fast==2.0", "gamma==3.0")


class RecordingInstaller(FakeInstaller):
    """Remembers which pins each install was asked for."""

    def __init__(self) -> None:
        super().__init__({"fast": FakeDist(compiled=True)})
        self.asked: list[list[str]] = []

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
        self.asked.append([line.split()[0] for line in lock.read_text().splitlines() if "==" in line])
        super().install(lock, target, runtime, arch)


def _spec(project: Path, pins: tuple[str, ...], arches: tuple[str, ...] = ("x86_64",)) -> LayerSpec:
    source = {"own/__init__.py": "x = 1\n"}
    return load_layer(write_layer(project, "demo", pins=pins, architectures=arches, source=source))


def _build(spec: LayerSpec, cache: BuildCache, installer: FakeInstaller, key: str = "py311-x86_64") -> BuildResult:
    variant = {v.key: v for v in expand_variants(spec)}[key]
    return Builder(installer, cache).build(spec, variant)


def test_bumping_one_package_rebuilds_only_it_and_matches_a_cold_build(project: Path, tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "warm")
    spec = _spec(project, PINS)
    installer = RecordingInstaller()
    first = _build(spec, cache, installer)
    assert installer.asked == [["alpha==1.0", "fast==2.0", "gamma==3.0"]] and first.pieces_built == 4

    assert spec.requirements is not None
    spec.requirements.write_text(lock_text("alpha==1.0", "fast==2.0", "gamma==3.1"), encoding="utf-8")
    installer = RecordingInstaller()
    bumped = _build(spec, cache, installer)
    assert installer.asked == [["gamma==3.1"]]  # the other packages and the source come from the piece cache
    assert installer.calls == [("install", "python3.11", "x86_64"), ("compile", "python3.11")]
    assert (bumped.pieces_reused, bumped.pieces_built) == (3, 1)
    assert [(d.name, d.version) for d in bumped.distributions] == [("alpha", "1.0"), ("fast", "2.0"),
                                                                  ("gamma", "3.1")]

    cold = _build(spec, BuildCache(tmp_path / "cold"), RecordingInstaller())
    assert cold.pieces_reused == 0
    assert bumped.zip_path.read_bytes() == cold.zip_path.read_bytes()
    assert (bumped.sha256, bumped.content_sha256, bumped.files) == (cold.sha256, cold.content_sha256, cold.files)


def test_a_source_change_reuses_every_package(project: Path, cache: BuildCache) -> None:
    spec = _spec(project, PINS)
    _build(spec, cache, RecordingInstaller())
    assert spec.source is not None
    (spec.source / "own" / "__init__.py").write_text("x = 2\n", encoding="utf-8")
    installer = RecordingInstaller()
    result = _build(spec, cache, installer)
    assert installer.asked == [] and installer.calls == [("compile", "python3.11")]
    assert (result.pieces_reused, result.pieces_built) == (3, 1)


def test_architectures_share_pure_python_pieces(project: Path, cache: BuildCache) -> None:
    spec = _spec(project, PINS, ("x86_64", "arm64"))
    _build(spec, cache, RecordingInstaller(), "py311-x86_64")
    installer = RecordingInstaller()
    arm = _build(spec, cache, installer, "py311-arm64")
    assert installer.asked == [["fast==2.0"]]  # only the compiled wheel differs per architecture
    assert arm.pieces_reused == 3
    store = PieceStore(cache.root)
    assert len(list(store.keys())) == 5  # alpha, gamma and the source once; fast twice


def test_phase_timings_are_recorded(project: Path, cache: BuildCache) -> None:
    result = _build(_spec(project, PINS), cache, RecordingInstaller())
    assert {name for name, _ in result.timings} == {"install", "slim", "verify", "bytecode", "zip"}
    assert all(seconds >= 0 for _, seconds in result.timings)
