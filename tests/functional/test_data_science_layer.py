"""A real build of the repo's `layers/data-science` (pandas + numpy): slow, but in CI."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import EM_AARCH64, EM_X86_64, REPO, platform_glibc, read_machine

from layersmith.builder.factory import build_layers
from layersmith.model import BuildResult

pytestmark = pytest.mark.slow

VARIANTS = [("python3.11", "x86_64"), ("python3.12", "x86_64"), ("python3.12", "arm64")]


@pytest.fixture(scope="session")
def ds_cache(repo_build_cache: Path) -> Path:
    return repo_build_cache


@pytest.fixture(scope="module")
def ds(ds_cache: Path) -> Iterator[dict[str, BuildResult]]:
    """Each variant built once for the whole module (the cache makes repeat requests hits)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYERSMITH_CACHE_DIR", str(ds_cache))
        results = {}
        for runtime, arch in VARIANTS:
            [result] = build_layers(REPO, ["data-science"], runtime=runtime, arch=arch)
            results[result.variant.key] = result
        yield results


def elf_members(path: Path) -> dict[str, int]:
    """Every ELF file in the zip (not only `*.so`: numpy.libs has `libscipy_openblas…so`) -> e_machine."""
    found = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            with zf.open(name) as fh:
                machine = read_machine(fh.read(20))
            if machine is not None:
                found[name] = machine
    return found


@pytest.mark.parametrize(("key", "machine"), [("py312-x86_64", EM_X86_64), ("py312-arm64", EM_AARCH64),
                                              ("py311-x86_64", EM_X86_64)])
def test_compiled_code_matches_the_architecture(ds: dict[str, BuildResult], key: str, machine: int) -> None:
    elves = elf_members(ds[key].zip_path)
    assert len([n for n in elves if n.endswith(".so")]) > 10  # numpy and pandas really are in there
    assert {n: m for n, m in elves.items() if m != machine} == {}


@pytest.mark.parametrize("key", ["py312-x86_64", "py312-arm64"])
def test_python312_variants_have_no_cpython311_bytecode(ds: dict[str, BuildResult], key: str) -> None:
    with zipfile.ZipFile(ds[key].zip_path) as zf:
        names = zf.namelist()
    assert not [n for n in names if "cpython-311" in n]
    assert all(n.startswith(("python/lib/python3.12/site-packages/", "layersmith/")) for n in names)
    assert not [n for n in names if "/tests/" in n]


def test_python311_variant_uses_wheels_al2_can_load(ds: dict[str, BuildResult]) -> None:
    result = ds["py311-x86_64"]
    for dist in result.distributions:
        for tag in dist.tags:
            plat = tag.split("-")[2]
            if plat == "any":
                continue
            parsed = platform_glibc(plat)
            assert parsed is not None and parsed[0] <= (2, 26) and parsed[1] == "x86_64", (dist, tag)
    assert {d.name for d in result.distributions} >= {"numpy", "pandas"}


@pytest.mark.skipif(platform.machine() != "x86_64" or sys.version_info[:2] != (3, 11),
                    reason="the host must be python3.11 on x86_64 to load this variant")
def test_python311_variant_imports_pandas_from_a_read_only_opt(ds: dict[str, BuildResult], tmp_path: Path) -> None:
    result = ds["py311-x86_64"]
    opt = tmp_path / "opt"
    with zipfile.ZipFile(result.zip_path) as zf:
        zf.extractall(opt)
    manifest = json.loads((opt / "layersmith" / "data-science.json").read_text())
    versions = {d["name"]: d["version"] for d in manifest["distributions"]}
    before = sorted(str(p) for p in opt.rglob("*"))
    code = """
import importlib.metadata, sys
sys.path[:0] = sys.argv[1:3]
import numpy, pandas
assert pandas.__file__.startswith(sys.argv[1]), pandas.__file__
frame = pandas.DataFrame({"a": numpy.arange(4)})
print(int(frame["a"].sum()), importlib.metadata.version("pandas"), importlib.metadata.version("numpy"))
"""
    subprocess.run(["chmod", "-R", "a-w", str(opt)], check=True)
    try:
        # -I -S: the host's own site-packages are not on sys.path, only the layer (as on Lambda)
        done = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(opt / "python/lib/python3.11/site-packages"),
                               str(opt / "python")], capture_output=True, text=True, check=False, timeout=300,
                              env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)})
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(opt)], check=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6", versions["pandas"], versions["numpy"]]
    # nothing was written next to the layer (root ignores a-w, so check it): the shipped bytecode sufficed
    assert sorted(str(p) for p in opt.rglob("*")) == before


def test_rebuild_elsewhere_is_byte_identical(ds: dict[str, BuildResult], tmp_path: Path) -> None:
    """Another project copy, cache, umask, clock and interpreter spelling: the same bytes (numpy's
    console scripts once made RECORD, and so the zip, depend on the build interpreter's path)."""
    project = tmp_path / "elsewhere"
    shutil.copytree(REPO / "layers" / "data-science", project / "layers" / "data-science")
    for path in project.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    python = Path(sys.executable).with_name("python3")
    script = 'umask 077 && exec "$0" -m layersmith --project "$1" build --runtime python3.12 --arch arm64 --json'
    done = subprocess.run(["sh", "-c", script, str(python), str(project)], capture_output=True, text=True,
                          check=False, timeout=600, env={**os.environ, "LAYERSMITH_CACHE_DIR": str(tmp_path / "c")})
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert not row["cached"]
    assert row["sha256"] == ds["py312-arm64"].sha256
