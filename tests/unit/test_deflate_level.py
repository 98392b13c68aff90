"""The deflate level is part of every cache key (issue 25 moved it from 6 to 5): a build at another level
never reuses a zip or a piece deflated at the old one, whether or not RECIPE_VERSION was bumped with it.

The level is a constant of the code, so "another level" is that constant set by monkeypatch: it stands
for an edit of `archive.COMPRESS_LEVEL`, not for a side effect to fake."""

from __future__ import annotations

import zipfile
from pathlib import Path

import deflate
import pytest
from fakes import FakeDist, FakeInstaller
from helpers import write_layer

from layersmith.builder import archive
from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.model import expand_variants
from layersmith.project.specs import load_layer

SITE = "python/lib/python3.11/site-packages"
# Text whose libdeflate stream differs between levels 5 and 6 (the fake packages' files are too small to)
TEXT = "".join(f"def f{i}(x):\n    return x * {i % 7} + {i % 13}  # {'ab' * (i % 11)}\n" for i in range(3000))


def test_the_default_level_and_the_text_tell_levels_5_and_6_apart() -> None:
    assert archive.COMPRESS_LEVEL == 5  # at most 1.05x the smallest peer's zip: bench/peers.py
    assert bytes(deflate.deflate_compress(TEXT.encode(), 5)) != bytes(deflate.deflate_compress(TEXT.encode(), 6))


def test_a_build_at_another_level_reuses_no_zip_and_no_piece(project: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_layer(write_layer(project, "demo", pins=("alpha==1.0", "fast==2.0"), source={"own.py": TEXT}))
    variant = expand_variants(spec)[0]
    installer = FakeInstaller({"fast": FakeDist(compiled=True)})
    cache = BuildCache(tmp_path / "cache")
    monkeypatch.setattr(archive, "COMPRESS_LEVEL", 6)
    old = Builder(installer, cache).build(spec, variant)
    monkeypatch.setattr(archive, "COMPRESS_LEVEL", 5)
    new = Builder(installer, cache).build(spec, variant)
    assert not new.cached and new.pieces_reused == 0 and new.cache_key != old.cache_key
    with zipfile.ZipFile(old.zip_path) as before, zipfile.ZipFile(new.zip_path) as after:
        assert before.getinfo("python/own.py").compress_size != after.getinfo("python/own.py").compress_size
        assert after.read("python/own.py") == TEXT.encode()
