"""The exact bytes of one layer zip whose inputs are all in this repository (utils), pinned.

Every other reproducibility test compares two builds of the same code, so a change in the zip's
layout (entry order, timestamps, modes, headers, compression level) passes them all while every
deployed layer would publish a new version on the next `pulumi up`. This test sees it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from fakes import FakeInstaller

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.model import expand_variants
from layersmith.project.specs import load_layer

REPO = Path(__file__).resolve().parents[2]

# CHANGE THIS ONLY ON PURPOSE, and say why in the commit. It changes when layers/utils/src changes,
# when RECIPE_VERSION is bumped (it is in the embedded manifest), or when the zip format changes
# (entry order, timestamps, modes, headers, deflate level, or the pinned `deflate` package). The last
# two mean every deployed layer publishes a new version on the next `pulumi up`: bump RECIPE_VERSION
# and call it out in the release notes. No bytecode: the fake installer compiles none, so the bytes
# do not depend on which interpreters this machine has.
# Last changed by issue 25: deflate level 6 -> 5 (RECIPE_VERSION 4 -> 5).
UTILS_ZIP_SHA256 = "f272b522bbaa8a67bf9d6728a386609ea075c084b7c24de5880d2cf9a23c4fc6"


def test_the_utils_zip_has_exactly_the_pinned_bytes(tmp_path: Path) -> None:
    spec = load_layer(REPO / "layers" / "utils")
    [variant] = expand_variants(spec)  # portable: one zip for every runtime and architecture
    result = Builder(FakeInstaller(compiles=False), BuildCache(tmp_path / "cache")).build(spec, variant)
    with zipfile.ZipFile(result.zip_path) as zf:
        names = zf.namelist()
    assert names == sorted(names)  # said plainly, so a failure below points at the order first
    assert result.sha256 == UTILS_ZIP_SHA256
