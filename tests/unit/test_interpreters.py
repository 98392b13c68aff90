"""Interpreter discovery against real executables: tiny scripts that answer the probe the way a
real CPython (or a broken pyenv shim) does, run through the real SubprocessRunner."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersmith.runner import SubprocessRunner
from layersmith.runtimes.interpreters import Finder


def script(path: Path, body: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def python(path: Path, version: str, machine: str = "x86_64") -> str:
    return script(path, f'echo "cpython {version} {machine}"')


def finder(tmp_path: Path, *, on_path: dict[str, str] | None = None, env: dict[str, str] | None = None,
           uv: str | None = None, reports: list[str] | None = None, verbose: bool = False) -> Finder:
    log = reports if reports is not None else []
    env = env if env is not None else {"PYENV_ROOT": str(tmp_path / "none")}
    return Finder(SubprocessRunner(), log.append, env=env,
                  which=lambda name, _p: (on_path or {}).get(name), home=tmp_path / "home",
                  uv=lambda: uv, current=("/usr/bin/python3.11", (3, 11)), verbose=verbose)


def failing_shim(tmp_path: Path, dotted: str) -> str:
    """What pyenv puts on PATH for a version it has but has not selected: exits 127."""
    return script(tmp_path / "shims" / f"python{dotted}",
                  f'echo "pyenv: python{dotted}: command not found" >&2; exit 127')


@pytest.mark.parametrize("verbose", [False, True])
def test_pyenv_versions_answer_before_pyenv_s_shim_on_path_is_run(tmp_path: Path, verbose: bool) -> None:
    shim = failing_shim(tmp_path, "3.12")
    ran = tmp_path / "shim-ran"
    Path(shim).write_text(Path(shim).read_text().replace("exit 127", f"touch {ran}; exit 127"))
    root = tmp_path / "pyenv"
    python(root / "versions" / "3.12.1" / "bin" / "python3.12", "3.12.1")
    python(root / "versions" / "3.12.9" / "bin" / "python3.12", "3.12.9")
    reports: list[str] = []
    f = finder(tmp_path, on_path={"python3.12": shim}, env={"PYENV_ROOT": str(root)}, reports=reports,
               verbose=verbose)
    found = f.find((3, 12))
    assert found is not None
    assert (found.version, found.source, found.arch) == ("3.12.9", "pyenv", "x86_64")  # newest patch first
    # The shim (~0.2 s a run) is not started at all: pyenv's own directory answered first.
    assert not ran.exists() and f.skipped == [] and reports == []


@pytest.mark.parametrize("verbose", [False, True])
def test_a_pyenv_shim_that_fails_is_skipped_after_pyenv_versions(tmp_path: Path, verbose: bool) -> None:
    shim = failing_shim(tmp_path, "3.12")
    root = tmp_path / "pyenv"
    python(root / "versions" / "3.12.1" / "bin" / "python3.12", "3.12.1")
    Path(root / "versions" / "3.12.1" / "bin" / "python3.12").write_text("#!/bin/sh\nexit 1\n")  # broken
    reports: list[str] = []
    f = finder(tmp_path, on_path={"python3.12": shim}, env={"PYENV_ROOT": str(root)}, reports=reports,
               verbose=verbose)
    assert f.find((3, 12)) is None
    said = f"python: {shim} (PATH): does not run (pyenv: python3.12: command not found); skipped"
    assert f.skipped[-1] == said.removeprefix("python: ") and len(f.skipped) == 2  # the broken one, then the shim
    # Issue 24: skips are said when nothing answers (here), each once.
    assert said in reports and len(reports) == 2


def test_a_shim_selecting_a_system_python_still_finds_it(tmp_path: Path) -> None:
    # PYENV_VERSION=system: the shim runs /usr/bin/python3.12, which pyenv's versions don't hold.
    shim = script(tmp_path / "shims" / "python3.12", '# pyenv shim\necho "cpython 3.12.3 x86_64"')
    f = finder(tmp_path, on_path={"python3.12": shim}, env={"PYENV_ROOT": str(tmp_path / "pyenv")})
    found = f.find((3, 12))
    assert found is not None and (found.path, found.version, found.source) == (shim, "3.12.3", "PATH")


def test_a_python_on_path_that_is_no_shim_comes_before_pyenv(tmp_path: Path) -> None:
    mine = python(tmp_path / "bin" / "python3.12", "3.12.4")
    root = tmp_path / "pyenv"
    python(root / "versions" / "3.12.9" / "bin" / "python3.12", "3.12.9")
    found = finder(tmp_path, on_path={"python3.12": mine}, env={"PYENV_ROOT": str(root)}).find((3, 12))
    assert found is not None and (found.version, found.source) == ("3.12.4", "PATH")


def test_a_skip_is_said_once_when_nothing_else_answers(tmp_path: Path) -> None:
    shim = failing_shim(tmp_path, "3.13")
    reports: list[str] = []
    f = finder(tmp_path, on_path={"python3.13": shim}, reports=reports)
    assert f.find((3, 13)) is None and f.find((3, 13)) is None
    assert reports == [f"python: {shim} (PATH): does not run (pyenv: python3.13: command not found); skipped"]


def test_an_interpreter_reporting_another_version_is_skipped_and_said(tmp_path: Path) -> None:
    liar = python(tmp_path / "bin" / "python3.13", "3.11.7")
    f = finder(tmp_path, on_path={"python3.13": liar})
    assert f.find((3, 13)) is None
    assert f.skipped == [f"{liar} (PATH): is cpython 3.11.7, not CPython 3.13; skipped"]


def test_without_pyenv_root_it_asks_pyenv_then_falls_back_to_home(tmp_path: Path) -> None:
    asked = tmp_path / "asked"
    python(asked / "versions" / "3.10.13" / "bin" / "python3.10", "3.10.13")
    pyenv = script(tmp_path / "bin" / "pyenv", f'echo "{asked}"')
    found = finder(tmp_path, on_path={"pyenv": pyenv}, env={}).find((3, 10))
    assert found is not None and found.path.startswith(str(asked))
    python(tmp_path / "home" / ".pyenv" / "versions" / "3.10.2" / "bin" / "python3.10", "3.10.2")
    found = finder(tmp_path, env={}).find((3, 10))
    assert found is not None and found.version == "3.10.2"


def test_uv_managed_pythons_are_found_but_not_freethreaded_ones(tmp_path: Path) -> None:
    base = tmp_path / "uv-python"
    python(base / "cpython-3.13.5+freethreaded-linux-x86_64-gnu" / "bin" / "python3.13", "3.13.5")
    python(base / "cpython-3.13.2-linux-aarch64-gnu" / "bin" / "python3.13", "3.13.2", "aarch64")
    uv = script(tmp_path / "bin" / "uv", f'echo "{base}"')
    found = finder(tmp_path, uv=uv).find((3, 13))
    assert found is not None
    assert (found.version, found.source, found.arch) == ("3.13.2", "uv", "arm64")


def test_this_python_comes_first_and_results_are_cached(tmp_path: Path) -> None:
    reports: list[str] = []
    f = Finder(SubprocessRunner(), reports.append, env={"PYENV_ROOT": str(tmp_path)}, which=lambda _n, _p: None,
               uv=lambda: None, current=(python(tmp_path / "me", "3.11.7"), (3, 11)))
    first = f.find((3, 11))
    assert first is not None and first.source == "this Python"
    assert f.find((3, 11)) is first and f.find((3, 14)) is None and reports == []
