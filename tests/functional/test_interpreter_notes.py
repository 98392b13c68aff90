"""`layersmith runtimes` with a `python3.12` on PATH that does not run (issue 24): when pyenv's own
interpreter of that version is found after it, the skip is said only under -v. A pyenv shim is not run
at all while pyenv's versions answer (issue 25: ~0.2 s a probe).

The broken one is a script that fails like a Python missing its shared library; the shim answers like
pyenv's for a version it has but has not selected (exit 127); pyenv's root holds a script answering the
probe like a CPython 3.12."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CliRun
from helpers import REPO

from layersmith.cli import main


def _script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def _machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_path: str) -> Path:
    first = tmp_path / "bin" / "python3.12"
    _script(first, on_path)
    _script(tmp_path / "pyenv" / "versions" / "3.12.9" / "bin" / "python3.12", 'echo "cpython 3.12.9 x86_64"')
    monkeypatch.setenv("PATH", f"{first.parent}:/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    return first


@pytest.mark.parametrize("verbose", [False, True])
def test_a_python_that_does_not_run_is_said_only_with_v(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        cli: CliRun, verbose: bool) -> None:
    broken = _machine(tmp_path, monkeypatch,
                      'echo "python3.12: error while loading shared libraries: libpython3.12.so.1.0" >&2; exit 127')
    code, out, err = cli("--project", REPO, "runtimes", "list", *(["-v"] if verbose else []))
    assert code == 0, err
    assert "host CPython 3.12.9 (x86_64, pyenv)" in out
    said = f"python: {broken} (PATH): does not run (python3.12: error while loading shared libraries"
    assert (said in err) == verbose, err


@pytest.mark.parametrize("verbose", [False, True])
def test_pyenv_s_shim_is_not_run_while_pyenv_s_versions_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              cli: CliRun, verbose: bool) -> None:
    ran = tmp_path / "shim-ran"
    _machine(tmp_path, monkeypatch,
             f'# pyenv exec\ntouch {ran}\necho "pyenv: python3.12: command not found" >&2; exit 127')
    code, out, err = cli("--project", REPO, "runtimes", "list", *(["-v"] if verbose else []))
    assert code == 0, err
    assert "host CPython 3.12.9 (x86_64, pyenv)" in out
    assert not ran.exists() and "does not run" not in err, err


def test_the_help_of_v_says_it_shows_the_skipped_interpreters(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["runtimes", "--help"])
    assert done.value.code == 0
    assert "Python interpreters skipped" in " ".join(capsys.readouterr().out.split())
