"""The build cache: complete entries only, tamper detection, interrupted and concurrent builds."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from fakes import FakeInstaller
from helpers import write_layer

from layersmith.builder.builder import Builder, cache_key
from layersmith.builder.cache import _HOST, RESULT, ZIP, BuildCache
from layersmith.builder.tree import file_sha256
from layersmith.model import BuildResult, LayerSpec, expand_variants
from layersmith.project.specs import load_layer
from layersmith.runtimes.supported import Runtime

FORK = multiprocessing.get_context("fork")


def demo_spec(project: Path) -> LayerSpec:
    return load_layer(write_layer(project, "demo", pins=("alpha==1.0",), source={"own/__init__.py": "x = 1\n"}))


def build(spec: LayerSpec, cache: BuildCache, installer: FakeInstaller | None = None) -> BuildResult:
    [variant] = expand_variants(spec)
    return Builder(installer or FakeInstaller(), cache).build(spec, variant)


def entries(cache: BuildCache, layer: str = "demo") -> list[Path]:
    root = cache.root / layer
    return sorted(root.iterdir()) if root.is_dir() else []


def scratch(cache: BuildCache) -> list[Path]:
    tmp = cache.root / ".tmp"
    return sorted(tmp.iterdir()) if tmp.is_dir() else []


def test_entry_layout_and_lookup(project: Path, cache: BuildCache) -> None:
    result = build(demo_spec(project), cache)
    [entry] = entries(cache)
    assert entry.name == f"py311-x86_64-{result.cache_key[:16]}"
    assert sorted(p.name for p in entry.iterdir()) == [ZIP, RESULT]
    assert result.zip_path == entry / ZIP
    data = cache.lookup(entry)
    assert data is not None and data["sha256"] == result.sha256 == file_sha256(entry / ZIP)
    assert scratch(cache) == []  # the private work dir is gone once published


def test_tampered_zip_is_rebuilt(project: Path, cache: BuildCache) -> None:
    spec = demo_spec(project)
    first = build(spec, cache)
    original = first.zip_path.read_bytes()
    first.zip_path.write_bytes(original[:-10] + b"0123456789")
    assert cache.lookup(first.zip_path.parent) is None
    installer = FakeInstaller()
    again = build(spec, cache, installer)
    assert not again.cached
    assert installer.calls == []  # reassembled from the per-package pieces: nothing to install
    assert again.zip_path.read_bytes() == original


@pytest.mark.parametrize("damage", ["truncate-result", "drop-result", "drop-zip"])
def test_incomplete_entry_is_never_a_hit(project: Path, cache: BuildCache, damage: str) -> None:
    spec = demo_spec(project)
    entry = build(spec, cache).zip_path.parent
    if damage == "truncate-result":
        (entry / RESULT).write_text('{"sha256": ')
    elif damage == "drop-result":
        (entry / RESULT).unlink()
    else:
        (entry / ZIP).unlink()
    assert cache.lookup(entry) is None
    again = build(spec, cache)
    assert not again.cached and cache.lookup(entry) is not None


def test_failed_build_leaves_nothing(project: Path, cache: BuildCache) -> None:
    class Exploding(FakeInstaller):
        def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
            super().install(lock, target, runtime, arch)
            raise RuntimeError("network went away")

    with pytest.raises(RuntimeError):
        build(demo_spec(project), cache, Exploding())
    assert entries(cache) == [] and scratch(cache) == []


class _Killed(FakeInstaller):
    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
        super().install(lock, target, runtime, arch)
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 mid-build: no finally, no cleanup


def test_interrupted_build_is_never_mistaken_for_an_entry_and_is_swept(project: Path, cache: BuildCache) -> None:
    spec = demo_spec(project)
    child = FORK.Process(target=build, args=(spec, cache, _Killed()))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    [leftover] = scratch(cache)  # the dead build's half-installed scratch dir
    assert leftover.name.startswith(f"{child.pid}-") and any(leftover.rglob("*.dist-info"))
    assert entries(cache) == []

    result = build(spec, cache)
    assert not result.cached
    assert scratch(cache) == []  # swept by the next build
    assert [result.zip_path.parent] == entries(cache)


def test_scratch_dirs_that_are_not_a_builds_of_this_host_are_kept(cache: BuildCache) -> None:
    """Names the sweep must not judge: no pid, or another host's (a pid means nothing across hosts)."""
    (cache.root / ".tmp" / "not-a-pid").mkdir(parents=True)
    (cache.root / ".tmp" / "1-otherhost-abc").mkdir()
    with cache.workdir() as work:
        assert work.name.startswith(f"{os.getpid()}-{_HOST}-")
        assert {"not-a-pid", "1-otherhost-abc", work.name} == {p.name for p in scratch(cache)}


def _hold_a_scratch_dir(cache_root: Path, ready: Path) -> None:
    """A build in progress: holds its scratch directory (named by `workdir`) until it is killed."""
    with BuildCache(cache_root).workdir() as work:
        (work / "half-installed.py").write_text("x = 1\n")
        ready.write_text(work.name)
        time.sleep(120)


def test_the_sweep_keeps_a_live_builds_scratch_dir_and_removes_it_once_the_owner_is_dead(
        cache: BuildCache, tmp_path: Path) -> None:
    """The sweep's own liveness check decides: the live build's directory has a real `<pid>-<host>-`
    name, so only `_alive(pid)` keeps it, and only its death lets the next build remove it."""
    ready = tmp_path / "ready"
    owner = FORK.Process(target=_hold_a_scratch_dir, args=(cache.root, ready))
    owner.start()
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        held = cache.root / ".tmp" / ready.read_text()
        assert held.name.startswith(f"{owner.pid}-{_HOST}-")
        with cache.workdir():  # a second build starts and sweeps while the first one runs
            assert held.is_dir() and (held / "half-installed.py").is_file()
    finally:
        assert owner.pid is not None
        os.kill(owner.pid, signal.SIGKILL)  # kill -9: no finally runs in the owner, nothing cleans up
        owner.join(60)
    assert held.is_dir()  # still there: only a sweep removes it
    with cache.workdir() as work:
        assert not held.exists()  # the owner is dead: swept
        assert [p.name for p in scratch(cache)] == [work.name]


class _Contending(FakeInstaller):
    """Installs (logging each install to a shared file) only once the other builder has started."""

    def __init__(self, shared: Path) -> None:
        super().__init__()
        self.shared = shared

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
        with (self.shared / "installs.log").open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        deadline = time.monotonic() + 30
        while len(list(self.shared.glob("started-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # let the other process reach the lock (overlap, not a timing assertion)
        super().install(lock, target, runtime, arch)


def _build_in_child(spec: LayerSpec, cache_root: Path, shared: Path, n: int) -> None:
    (shared / f"started-{n}").touch()
    result = build(spec, BuildCache(cache_root), _Contending(shared))
    (shared / f"result-{n}.json").write_text(json.dumps({"cached": result.cached, "sha256": result.sha256}))


@pytest.mark.serial  # two processes must overlap inside a 0.3 s window: alone, not beside another worker
def test_two_concurrent_builds_of_the_same_variant(project: Path, cache: BuildCache, tmp_path: Path) -> None:
    spec = demo_spec(project)
    shared = tmp_path / "shared"
    shared.mkdir()
    children = [FORK.Process(target=_build_in_child, args=(spec, cache.root, shared, n)) for n in (1, 2)]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
    assert [c.exitcode for c in children] == [0, 0]
    results = [json.loads((shared / f"result-{n}.json").read_text()) for n in (1, 2)]
    assert len((shared / "installs.log").read_text().split()) == 1  # the second waited, then hit
    assert sorted(r["cached"] for r in results) == [False, True]
    assert results[0]["sha256"] == results[1]["sha256"]
    [entry] = entries(cache)
    assert cache.lookup(entry) is not None
    assert scratch(cache) == []


def test_a_build_waiting_for_another_builds_lock_says_so(project: Path, cache: BuildCache) -> None:
    import fcntl
    import threading

    spec = demo_spec(project)
    [variant] = expand_variants(spec)
    builder = Builder(FakeInstaller(), cache)
    entry = cache.entry(spec.name, variant.key, cache_key(spec, variant, builder.installer))
    lock = cache.lock_path(entry)
    lock.parent.mkdir(parents=True, exist_ok=True)
    messages: list[str] = []
    waiting = threading.Event()

    def report(message: str) -> None:
        messages.append(message)
        if "waiting" in message:
            waiting.set()

    builder.report = report
    with lock.open("w") as held:  # "another build" holds the variant's lock
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=builder.build, args=(spec, variant))
        worker.start()
        assert waiting.wait(60)
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(60)
    assert not worker.is_alive()
    assert messages[0] == (f"demo [py311-x86_64]: waiting for another build of this variant to finish "
                           f"(it holds {lock})")
    assert cache.lookup(entry) is not None
