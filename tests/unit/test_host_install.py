"""The host installer asks uv offline first (no index revalidation) and falls back to the network."""

from __future__ import annotations

import sys
from pathlib import Path

from fakes import ScriptedRunner

from layersmith.builder.install import HostInstaller
from layersmith.runtimes.interpreters import Finder
from layersmith.runtimes.supported import RUNTIMES


def installer(runner: ScriptedRunner, tmp_path: Path) -> HostInstaller:
    finder = Finder(runner, env={"PYENV_ROOT": str(tmp_path / "no-pyenv")}, which=lambda _n, _p: None,
                    uv=lambda: None, current=("/usr/bin/python3.11", (3, 11)))
    return HostInstaller(runner, finder=finder)


def installs(runner: ScriptedRunner) -> list[tuple[str, ...]]:
    return [a for a in runner.argvs if "install" in a]


def test_everything_cached_installs_offline_in_one_call(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    installer(runner, tmp_path).install(tmp_path / "lock.txt", tmp_path / "site", RUNTIMES["python3.11"], "x86_64")
    [argv] = installs(runner)
    assert "--offline" in argv


def test_a_wheel_missing_from_uvs_cache_is_fetched_online(tmp_path: Path) -> None:
    runner = ScriptedRunner({"--offline": (2, "", "error: Network connectivity is disabled\n")})
    installer(runner, tmp_path).install(tmp_path / "lock.txt", tmp_path / "site", RUNTIMES["python3.11"], "x86_64")
    offline, online = installs(runner)
    assert "--offline" in offline and "--offline" not in online and offline[:-1] == online


def test_this_python_is_known_without_starting_it() -> None:
    runner = ScriptedRunner()
    finder = Finder(runner, env={}, which=lambda _n, _p: None, uv=lambda: None)
    found = finder.find((sys.version_info[0], sys.version_info[1]))
    assert found is not None and found.path == sys.executable and found.source == "this Python"
    assert runner.argvs == []
