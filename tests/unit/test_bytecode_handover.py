"""A cold build overlaps what it can with compiling bytecode (issue 25): each .pyc goes to the deflating
pool as soon as it is written (the pycs were deflated only after compileall ended, a tail of ~0.7 s with
one core busy), and the ELF check runs while compileall does."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes import FakeDist, FakeInstaller, write_pyc
from helpers import MACHINE_FOR_ARCH, write_layer, zip_read

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.pieces import Deflater
from layersmith.errors import VerificationError
from layersmith.model import expand_variants
from layersmith.project.specs import load_layer
from layersmith.runtimes.supported import Runtime

SITE = "python/lib/python3.11/site-packages"
# A sparse 9 MB file: over the 8 MB below which a build deflates inline, without a pool
BIG = {"big": FakeDist(data_bytes=9 << 20)}


class RecordingDeflater(Deflater):
    """The real pool, noting every path it is handed."""

    def __init__(self, level: int, workers: int | None = None) -> None:
        super().__init__(level, workers)
        self.handed: set[str] = set()
        self.changed = threading.Condition()

    def submit(self, paths: Iterable[Path | str]) -> None:
        paths = list(paths)
        with self.changed:
            self.handed.update(str(p) for p in paths)
            self.changed.notify_all()
        super().submit(paths)

    def wait_for(self, path: Path, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: str(path) in self.handed, timeout)


@dataclass
class Pools:
    made: list[RecordingDeflater] = field(default_factory=list)

    @contextlib.contextmanager
    def __call__(self, level: int, workers: int | None) -> Iterator[Deflater]:
        pool = RecordingDeflater(level, workers)
        self.made.append(pool)
        try:
            yield pool
        finally:
            pool.close()


@dataclass
class SlowCompiler(FakeInstaller):
    """Compiles one module, then waits (up to 10 s) until the build's pool has been handed its pyc before
    writing the rest and returning: as compileall's processes go on while their first pycs are done."""

    pools: Pools = field(default_factory=Pools)
    handed_while_compiling: list[bool] = field(default_factory=list)

    def compile_bytecode(self, root: Path, runtime: Runtime) -> str | None:
        tag = f"cpython-{runtime.version[0]}{runtime.version[1]}"
        for index, source in enumerate(sorted(root.rglob("*.py"))):
            pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
            pyc.parent.mkdir(exist_ok=True)
            write_pyc(pyc, b"fake pyc " + hashlib.sha256(source.read_bytes()).digest())
            if index == 0:
                deadline = time.monotonic() + 10
                while not self.pools.made and time.monotonic() < deadline:
                    time.sleep(0.01)
                handed = bool(self.pools.made) and self.pools.made[-1].wait_for(pyc, deadline - time.monotonic())
                self.handed_while_compiling.append(handed)
        return tag


def test_a_pyc_is_handed_to_the_pool_while_compiling_goes_on(project: Path, tmp_path: Path) -> None:
    spec = load_layer(write_layer(project, "demo", pins=("alpha==1.0", "big==1.0")))
    variant = expand_variants(spec)[0]
    installer = SlowCompiler(BIG)
    result = Builder(installer, BuildCache(tmp_path / "cache"), deflaters=installer.pools).build(spec, variant)
    assert installer.handed_while_compiling == [True]
    # and the zip holds what was compiled, each pyc as the compiler wrote it
    source = zip_read(result.zip_path, f"{SITE}/alpha/core.py")
    assert zip_read(result.zip_path, f"{SITE}/alpha/__pycache__/core.cpython-311.pyc") == (
        b"fake pyc " + hashlib.sha256(source).digest())



def test_the_elf_check_runs_while_compiling_and_still_fails_the_build(project: Path, tmp_path: Path) -> None:
    """An arm64 .so in an x86_64 variant: the check (beside compileall, which has started) fails the build,
    naming the file, and nothing is stored."""
    spec = load_layer(write_layer(project, "demo", pins=("big==1.0", "fast==2.0")))
    variant = expand_variants(spec)[0]
    installer = FakeInstaller({**BIG, "fast": FakeDist(compiled=True, machine=MACHINE_FOR_ARCH["arm64"])})
    cache = BuildCache(tmp_path / "cache")
    with pytest.raises(VerificationError, match=r"fast/_speedups\.cpython-311-x86_64-linux-gnu\.so is AArch64 code"):
        Builder(installer, cache).build(spec, variant)
    assert ("compile", "python3.11") in installer.calls  # started before the check, not after
    assert not any(p.name == "layer.zip" for p in cache.root.rglob("*"))
