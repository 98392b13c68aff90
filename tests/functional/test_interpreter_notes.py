"""`layersmith runtimes` with pyenv's shims on PATH (issue 24): a shim that does not run, before
pyenv's own interpreter of that version is found, is said only under -v.

The shim is a script that answers like pyenv's for a version it has but has not selected (exit 127);
pyenv's root holds a script answering the probe like a CPython 3.12."""

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


@pytest.fixture
def pyenv_shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shim = tmp_path / "shims" / "python3.12"
    _script(shim, 'echo "pyenv: python3.12: command not found" >&2; exit 127')
    _script(tmp_path / "pyenv" / "versions" / "3.12.9" / "bin" / "python3.12", 'echo "cpython 3.12.9 x86_64"')
    monkeypatch.setenv("PATH", f"{shim.parent}:/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    return shim


@pytest.mark.parametrize("verbose", [False, True])
def test_a_failing_shim_is_said_only_with_v(pyenv_shim: Path, cli: CliRun, verbose: bool) -> None:
    code, out, err = cli("--project", REPO, "runtimes", "list", *(["-v"] if verbose else []))
    assert code == 0, err
    assert "host CPython 3.12.9 (x86_64, pyenv)" in out
    said = f"python: {pyenv_shim} (PATH): does not run (pyenv: python3.12: command not found); skipped"
    assert (said in err) == verbose, err


def test_the_help_of_v_says_it_shows_the_skipped_interpreters(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["runtimes", "--help"])
    assert done.value.code == 0
    assert "Python interpreters skipped" in " ".join(capsys.readouterr().out.split())
