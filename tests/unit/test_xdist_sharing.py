"""The pytest-xdist workers of one run share the repo's layer builds: one builds, the others wait."""
from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from helpers import exclusive, session_cache_dir

FORK = multiprocessing.get_context("fork")


def _hold(lock: Path, log: Path, n: int) -> None:
    with exclusive(lock):
        with log.open("a") as fh:
            fh.write(f"enter {n}\n")
        time.sleep(0.2)
        with log.open("a") as fh:
            fh.write(f"leave {n}\n")


def test_workers_take_turns_under_the_build_lock(tmp_path: Path) -> None:
    log = tmp_path / "log"
    children = [FORK.Process(target=_hold, args=(tmp_path / "cache" / ".lock", log, n)) for n in (1, 2, 3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    lines = log.read_text().split("\n")[:-1]
    # Each "enter n" is followed by its own "leave n": no worker was inside while another was.
    assert [line.split()[0] for line in lines] == ["enter", "leave"] * 3
    assert all(lines[i].split()[1] == lines[i + 1].split()[1] for i in range(0, 6, 2))


def test_make_test_runs_the_tiers_on_every_core_then_the_serial_ones_alone() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest: "):makefile.index("\nunit: ")]
    assert '-n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder -m "not serial" tests' in recipe
    assert "$(PYTEST) -m serial $(SERIAL_FILES)" in recipe
    # the serial pass collects only the files that mark a test serial: every one of them
    assert "SERIAL_FILES = $(shell grep -rlE 'mark\\.serial' tests --include='test_*.py')" in makefile
    tests = Path(__file__).resolve().parents[1]
    marked = [p for p in tests.rglob("test_*.py") if "mark.serial" in p.read_text(encoding="utf-8")]
    assert len(marked) >= 3
    assert "runtimes fetch --all" in recipe  # the suite runs every sysroot, declared or not
    assert recipe.count("-eq 5") == 2  # "no test ran" fails either pass
    assert "timeout $(PYTEST_TIMEOUT)" in makefile and "-rs" in makefile


def test_every_worker_of_a_run_gets_the_same_cache_directory(tmp_path: Path) -> None:
    """Outside $LAYERSMITH_CACHE_DIR each xdist worker has its own base temp (popen-gwN): the cache
    lives beside them, one per run; a plain run keeps its own base temp."""
    run = tmp_path / "pytest-7"
    assert session_cache_dir(run / "popen-gw0", None, "gw0") == session_cache_dir(run / "popen-gw1", None, "gw1")
    assert session_cache_dir(run / "popen-gw0", None, "gw0") == run / "plan-cache"
    assert session_cache_dir(run, None, None) == run / "plan-cache"
    assert session_cache_dir(run, "/c", "gw1") == Path("/c")
