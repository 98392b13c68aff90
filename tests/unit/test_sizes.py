"""A cached variant's bytes by distribution (the report's treemap): they add up to the build's
unzipped bytes, come from the cache only, and a swept piece means "not known", never a guess."""

from __future__ import annotations

import shutil
from pathlib import Path

from fakes import FakeDist, FakeInstaller
from helpers import write_layer

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.pieces import PIECES
from layersmith.builder.sizes import MANIFEST, SOURCES, cached_sizes
from layersmith.model import expand_variants
from layersmith.project.specs import load_layer

DISTS = {"big": FakeDist(data_bytes=400_000), "small": FakeDist(compiled=True)}


def test_parts_add_up_to_the_builds_unzipped_bytes(project: Path, cache: BuildCache) -> None:
    spec = load_layer(write_layer(project, "demo", pins=("big==1.0", "small==2.0"),
                                  source={"own/__init__.py": "x=1\n"}))
    variant = expand_variants(spec)[0]
    builder = Builder(FakeInstaller(DISTS), cache)
    assert cached_sizes(builder, spec, variant) is None  # not built: nothing, and nothing built
    assert not any(cache.root.glob("demo/*/layer.zip"))
    result = builder.build(spec, variant)
    sizes = cached_sizes(builder, spec, variant)
    assert sizes is not None
    assert sum(size for _, size in sizes.parts) == sizes.unzipped_bytes == result.unzipped_bytes
    names = [name for name, _ in sizes.parts]
    assert names[0] == "big 1.0" and {"small 2.0", SOURCES, MANIFEST} <= set(names)
    assert sizes.parts == tuple(sorted(sizes.parts, key=lambda p: (-p[1], p[0])))


def test_a_swept_piece_means_the_breakdown_is_unknown(project: Path, cache: BuildCache) -> None:
    spec = load_layer(write_layer(project, "demo", pins=("big==1.0",)))
    variant = expand_variants(spec)[0]
    builder = Builder(FakeInstaller(DISTS), cache)
    builder.build(spec, variant)
    shutil.rmtree(cache.root / PIECES)
    assert cached_sizes(builder, spec, variant) is None


def test_a_build_that_recorded_no_pieces_is_unknown(project: Path, cache: BuildCache) -> None:
    """Never the whole variant drawn as one "(manifest)" rectangle."""
    import json

    spec = load_layer(write_layer(project, "demo", pins=("big==1.0",)))
    variant = expand_variants(spec)[0]
    builder = Builder(FakeInstaller(DISTS), cache)
    builder.build(spec, variant)
    (result,) = cache.root.glob("demo/*/result.json")
    data = json.loads(result.read_text(encoding="utf-8"))
    del data["pieces"]
    result.write_text(json.dumps(data), encoding="utf-8")
    assert cached_sizes(builder, spec, variant) is None
