"""Shared fixtures. Helpers live in `tests/helpers.py` (files, specs, ELF) and `tests/fakes.py`."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

# `import helpers` / `import fakes` must work whatever rootdir/import mode pytest picks.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import FakeClock, build_every_repo_variant, exclusive, session_cache_dir
from run_order import file_of, heavy_first

from layersmith.builder.cache import BuildCache

# Fixtures that lock or build real layers (uv resolving and downloading from PyPI): every test that uses
# one, directly or through another fixture, needs the network. The repo's layer builds, the plans of
# test_plan_cli.py and the multi-package layer of test_real_builds.py. Tests that reach PyPI otherwise
# carry `@pytest.mark.network` themselves.
NETWORK_FIXTURES = frozenset({"repo_build_cache", "plan_cache", "ms_project"})


# tryfirst: the xdist_group marks must be there before pytest-xdist's own hook reads them.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if NETWORK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.network)
    # The longest files first, and each file one unit of work unless it says otherwise
    # (tests/run_order.py): what `make test`'s workers are handed, in this order.
    items[:] = heavy_first(items)
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(file_of(item)))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project directory with a `layers/` folder."""
    root = tmp_path / "project"
    (root / "layers").mkdir(parents=True)
    return root


@pytest.fixture
def cache(tmp_path: Path) -> BuildCache:
    return BuildCache(tmp_path / "cache")


def xdist_worker() -> str | None:
    """The pytest-xdist worker this process is (gw0, gw1, ...), or None in a plain run."""
    return os.environ.get("PYTEST_XDIST_WORKER")


@pytest.fixture(scope="session")
def repo_build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build cache for the repo's layers across the whole session (`make test` points
    $LAYERSMITH_CACHE_DIR at a fresh directory), so data-science is built once, not per module.

    Under pytest-xdist every worker is a session of its own: they share one directory (the run's
    base temp, not the worker's), and the first worker to take the lock builds every variant while
    the others wait, then find each one in the cache. Without the lock both workers would install
    and zip the same 13 variants at once, each waiting on the other's per-variant cache locks."""
    path = session_cache_dir(tmp_path_factory.getbasetemp(), os.environ.get("LAYERSMITH_CACHE_DIR"), xdist_worker())
    path.mkdir(parents=True, exist_ok=True)
    if xdist_worker():
        with exclusive(path / ".repo-builds.lock"):
            build_every_repo_variant(path)
    return path


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(1_700_000_000.0)
    real_localtime, real_gmtime = time.localtime, time.gmtime
    monkeypatch.setattr(time, "time", lambda: fake.now)
    monkeypatch.setattr(time, "time_ns", lambda: int(fake.now * 1e9))
    monkeypatch.setattr(time, "localtime", lambda secs=None: real_localtime(fake.now if secs is None else secs))
    monkeypatch.setattr(time, "gmtime", lambda secs=None: real_gmtime(fake.now if secs is None else secs))
    return fake


@pytest.fixture(autouse=True)
def _unfitted_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands fit their tables to `COLUMNS` when it is set (layersmith.terminal): a shell that
    exports it must not change what the tests read. A test that wants a width sets it."""
    monkeypatch.delenv("COLUMNS", raising=False)
