"""Bytecode for the target runtime, for real: uv installs from PyPI, the host's CPython compiles.

The host is CPython 3.11, so a python3.11 variant gets cpython-311 bytecode; a python3.12 one gets
cpython-312 bytecode when a CPython 3.12 is installed (pyenv, uv, PATH) and none otherwise (never
bytecode for another version, docs/architecture.md#bytecode-for-the-runtimes-exact-python). Two
builds in two directories must give byte-identical zips: `unchecked-hash` pycs carry a hash of the
source, not its mtime, and `-s/-p` make every `co_filename` an /opt path instead of the build
directory.
"""

from __future__ import annotations

import importlib.util
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path
from types import CodeType

import pytest

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.factory import build_layers, make_builder
from layersmith.builder.install import HostInstaller
from layersmith.model import BuildResult
from layersmith.runner import SubprocessRunner
from layersmith.runtimes.interpreters import Finder

pytestmark = [pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the host must be CPython 3.11"),
              pytest.mark.network]  # real builds: uv downloads from PyPI

LOCK = """attrs==26.1.0 \\
    --hash=sha256:c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309 \\
    --hash=sha256:d03ceb89cb322a8fd706d4fb91940737b6642aa36998fe130a9bc96c985eff32
"""
SITE = "python/lib/python3.11/site-packages"


def make_project(root: Path, runtimes: str = '"python3.11"') -> Path:
    layer = root / "layers" / "tiny"
    (layer / "src" / "tiny_shared").mkdir(parents=True)
    (layer / "src" / "tiny_shared" / "__init__.py").write_text("def greet() -> str:\n    return 'hi'\n")
    (layer / "requirements.txt").write_text(LOCK)
    (layer / "layer.toml").write_text(f'description = "t"\nruntimes = [{runtimes}]\narchitectures = ["x86_64"]\n'
                                      'requirements = "requirements.txt"\nsource = "src"\nportable = false\n')
    return root


def build(project: Path) -> list[BuildResult]:
    return build_layers(project, ["tiny"], builder=make_builder(project, "host"))


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAYERSMITH_CACHE_DIR", raising=False)  # each project gets a fresh cache


def read_pyc(data: bytes) -> tuple[int, bytes, CodeType]:
    """(flags, source hash, code) of a PEP 552 pyc for this interpreter."""
    assert data[:4] == importlib.util.MAGIC_NUMBER
    code = marshal.loads(data[16:])
    assert isinstance(code, CodeType)
    return int.from_bytes(data[4:8], "little"), data[8:16], code


def test_bytecode_is_deterministic_unchecked_hash_and_points_at_opt(tmp_path: Path) -> None:
    [first] = build(make_project(tmp_path / "a"))
    [second] = build(make_project(tmp_path / "elsewhere" / "b"))
    assert not first.cached and not second.cached
    assert first.bytecode == "cpython-311"
    assert first.sha256 == second.sha256  # byte-identical zips, bytecode included

    with zipfile.ZipFile(first.zip_path) as zf:
        names = zf.namelist()
        pycs = [n for n in names if n.endswith(".pyc")]
        assert f"{SITE}/attrs/__pycache__/__init__.cpython-311.pyc" in pycs
        assert "python/tiny_shared/__pycache__/__init__.cpython-311.pyc" in pycs
        assert all(".cpython-311." in n for n in pycs)  # no other version's bytecode
        sources = {n for n in names if n.endswith(".py")}
        compiled = {n.replace("__pycache__/", "").replace(".cpython-311.pyc", ".py") for n in pycs}
        assert sources <= compiled  # every module ships its bytecode
        for name in pycs:
            flags, source_hash, code = read_pyc(zf.read(name))
            assert flags == 0b01, name  # hash-based (bit 0) and check_source=0 (bit 1): unchecked-hash
            source = name.replace("__pycache__/", "").replace(".cpython-311.pyc", ".py")
            assert source_hash == importlib.util.source_hash(zf.read(source)), name
            assert code.co_filename == f"/opt/{source}", name
            assert str(tmp_path).encode() not in zf.read(name)


def test_no_bytecode_for_a_runtime_no_interpreter_here_can_compile_for(tmp_path: Path) -> None:
    runner = SubprocessRunner()
    # discovery that sees only this Python: no PATH, no pyenv, no uv
    finder = Finder(runner, env={"PYENV_ROOT": str(tmp_path / "none"), "PATH": ""}, uv=lambda: None)
    project = make_project(tmp_path, '"python3.11", "python3.12"')
    builder = Builder(HostInstaller(runner, finder=finder), BuildCache(tmp_path / "cache"))
    results = {r.variant.key: r for r in build_layers(project, ["tiny"], builder=builder)}
    assert results["py311-x86_64"].bytecode == "cpython-311"
    assert results["py312-x86_64"].bytecode is None
    with zipfile.ZipFile(results["py312-x86_64"].zip_path) as zf:
        assert not [n for n in zf.namelist() if n.endswith(".pyc") or "__pycache__" in n]


def test_an_installed_python312_compiles_the_python312_variant(tmp_path: Path) -> None:
    found = Finder(SubprocessRunner()).find((3, 12))
    if found is None:
        pytest.skip("no CPython 3.12 installed here (PATH, pyenv, uv)")
    results = {r.variant.key: r for r in build(make_project(tmp_path, '"python3.11", "python3.12"'))}
    assert results["py312-x86_64"].bytecode == "cpython-312"
    magic = subprocess.run([found.path, "-I", "-c", "import importlib.util, sys; "
                            "sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                           capture_output=True, text=True, check=True).stdout
    with zipfile.ZipFile(results["py312-x86_64"].zip_path) as zf:
        pycs = [n for n in zf.namelist() if n.endswith(".cpython-312.pyc")]
        assert pycs and not [n for n in zf.namelist() if n.endswith(".cpython-311.pyc")]
        assert all(zf.read(n)[:4].hex() == magic for n in pycs)
