"""A rebuild's compileall started while uv installs (issue 25): `compileall -i FIFO`, given its list once the
tree is there. Same pycs as `compile_balanced`, errors reported, and never a process left waiting."""

from __future__ import annotations

import errno
import os
import platform
import shutil
import sys
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from fakes import FakeInstaller
from helpers import lock_text, write_layer
from test_bytecode_shares import pycs, tree, tricky_tree

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.early_compile import EarlyCompile, start_compile
from layersmith.builder.install import HostInstaller, compile_balanced
from layersmith.errors import BuildError
from layersmith.model import expand_variants
from layersmith.project.specs import load_layer
from layersmith.runner import Completed, SubprocessRunner
from layersmith.runtimes.supported import RUNTIMES, Runtime

HERE = RUNTIMES[f"python3.{sys.version_info[1]}"]


def _copy_into(src: Path, dest: Path) -> None:
    """What uv does to the stage after the process started: the files appear."""
    shutil.copytree(src, dest, dirs_exist_ok=True)


@pytest.mark.parametrize("make", [tree, tricky_tree])
def test_it_writes_the_same_pycs_as_compile_balanced_for_a_tree_installed_after_it_started(
        tmp_path: Path, make: Callable[[Path], Path]) -> None:
    reference = make(tmp_path / "reference")
    compile_balanced(SubprocessRunner(), [sys.executable], reference, HERE, workers=2)
    stage = tmp_path / "stage"
    early = EarlyCompile(SubprocessRunner(), [sys.executable], stage, HERE, workers=2)
    time.sleep(0.2)  # it has started and waits on its list
    _copy_into(make(tmp_path / "source"), stage)
    assert early.finish() == f"cpython-{HERE.version[0]}{HERE.version[1]}"
    got = pycs(stage)
    assert got and got == pycs(reference)
    assert not os.path.exists(early.lists)


def test_a_tree_to_split_is_compiled_in_shares_and_the_waiting_process_compiles_nothing(tmp_path: Path) -> None:
    reference = tree(tmp_path / "reference")
    compile_balanced(SubprocessRunner(), [sys.executable], reference, HERE, workers=2, split_bytes=0)
    stage = tmp_path / "stage"
    early = EarlyCompile(SubprocessRunner(), [sys.executable], stage, HERE, workers=2, split_bytes=0)
    _copy_into(tree(tmp_path / "source"), stage)
    early.finish()
    assert pycs(stage) == pycs(reference)
    assert early.running.result().returncode == 0


def test_closed_without_a_list_it_ends_and_compiles_nothing(tmp_path: Path) -> None:
    """A build that fails (uv refuses the lock) closes it: a process blocked on its pipe would never end."""
    stage = tree(tmp_path / "stage")
    early = EarlyCompile(SubprocessRunner(), [sys.executable], stage, HERE)
    early.close()
    assert early.running.result().returncode == 0
    assert pycs(stage) == {} and not os.path.exists(early.lists)
    early.close()  # again: nothing left to do


def test_a_process_that_never_starts_is_an_error_not_a_hang(tmp_path: Path) -> None:
    early = EarlyCompile(SubprocessRunner(), [str(tmp_path / "no-python")], tree(tmp_path / "t"), HERE)
    with pytest.raises(BuildError, match="compiling bytecode for python3"):
        early.finish()


def test_a_syntax_error_fails_the_build(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    early = EarlyCompile(SubprocessRunner(), [sys.executable], stage, HERE)
    _copy_into(tree(tmp_path / "source"), stage)
    (stage / "python" / "bad.py").write_text("def broken(:\n")
    with pytest.raises(BuildError, match="compiling bytecode for python3"):
        early.finish()


# --- through the builder ----------------------------------------------------------------------------------

class _Host(HostInstaller):
    """The host installer with this Python as every runtime's interpreter and the fake install (no uv): it
    records when compileall is started against the install."""

    def __init__(self, events: list[str]) -> None:
        super().__init__(_Starts(events), uv_version=lambda _binary: "uv fake")
        self.events = events
        self.fake = FakeInstaller()

    def interpreter(self, runtime: Runtime) -> tuple[str, str] | None:
        return sys.executable, platform.python_version()

    def install(self, lock: Path, target: Path, runtime: Runtime, arch: str) -> None:
        if self.events:  # the rebuild: give a compileall started before the install the time to be run
            deadline = time.monotonic() + 5
            while "compileall waiting" not in self.events and time.monotonic() < deadline:
                time.sleep(0.01)
        self.events.append("install")
        self.fake.install(lock, target, runtime, arch)


class _Starts(SubprocessRunner):
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def run(self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        if "-i" in argv and os.path.basename(argv[argv.index("-i") + 1]) == "share-0.txt" and os.path.exists(
                argv[argv.index("-i") + 1]) and not os.path.isfile(argv[argv.index("-i") + 1]):
            self.events.append("compileall waiting")  # its list is the pipe, not a file
        return super().run(argv, cwd=cwd, env=env, timeout=timeout)


def test_a_rebuild_starts_compileall_before_the_install_and_ships_its_pycs(project: Path, tmp_path: Path) -> None:
    spec = load_layer(write_layer(project, "demo", pins=("alpha==1.0", "gamma==3.0")))
    [variant] = expand_variants(spec)
    events: list[str] = []
    cache = BuildCache(tmp_path / "cache")
    Builder(_Host(events), cache).build(spec, variant)
    assert events == ["install"]  # a cold build: no piece stored, the usual compile
    assert spec.requirements is not None
    spec.requirements.write_text(lock_text("alpha==1.0", "gamma==3.1"), encoding="utf-8")
    bumped = Builder(_Host(events), cache).build(spec, variant)
    assert events == ["install", "compileall waiting", "install"]
    with zipfile.ZipFile(bumped.zip_path) as zf:
        names = zf.namelist()
    assert any(n.endswith(".pyc") and "gamma" in n for n in names)


def test_an_installer_that_compiles_its_own_way_is_not_started_early(tmp_path: Path) -> None:
    class Own(_Host):
        def compile_bytecode(self, root: Path, runtime: Runtime) -> str | None:
            return None

    assert start_compile(Own([]), tmp_path / "stage", HERE) is None
    assert start_compile(FakeInstaller(), tmp_path / "stage", HERE) is None
    early = start_compile(_Host([]), tmp_path / "stage", HERE)
    assert early is not None
    early.close()


def test_without_named_pipes_it_is_not_started_and_leaves_nothing(tmp_path: Path) -> None:
    """A temporary directory on a filesystem without FIFOs: the build compiles after the install, as before."""
    def no_fifo(path: str, mode: int) -> None:
        raise OSError(errno.EPERM, "Operation not permitted", path)

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert start_compile(_Host([]), tmp_path / "stage", HERE, scratch=str(scratch), mkfifo=no_fifo) is None
    assert list(scratch.iterdir()) == []
    assert start_compile(_Host([]), tmp_path / "stage", HERE, scratch=str(tmp_path / "missing")) is None


def test_a_tree_without_python_files_compiles_nothing_not_sys_path(tmp_path: Path) -> None:
    """compileall given an empty list compiles every directory of its sys.path (`compile_path`): a stage of
    data files only must get no empty list."""
    stage = tmp_path / "stage"
    early = EarlyCompile(SubprocessRunner(), [sys.executable], stage, HERE)
    (stage / "python").mkdir(parents=True)
    (stage / "python" / "data.txt").write_text("not python\n")
    early.finish()
    done = early.running.result()
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert pycs(stage) == {}
