"""The command line as a new user meets it: the project is found from any directory inside it,
`--project` goes anywhere, and setup problems are one line saying what to do, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CliRun, source_layer


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one source-only layer (builds in a second, no PyPI) and its own build cache."""
    root = tmp_path / "proj"
    source_layer(root, "tiny", {"tiny/__init__.py": "VALUE = 1\n"})
    (root / "Pulumi.yaml").write_text("name: tiny\nruntime: python\n", encoding="utf-8")
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path / "cache"))
    return root


def test_a_command_finds_the_project_from_a_subdirectory(tiny: Path, cli: CliRun,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny / "layers" / "tiny" / "src")
    code, out, err = cli("build", "tiny")
    assert code == 0, err
    assert "1 variant(s): 1 built" in out


def test_project_is_accepted_after_the_command(tiny: Path, tmp_path: Path, cli: CliRun,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("build", "tiny", "--project", tiny)
    assert code == 0, err
    code, out, err = cli("cache", "prune", "--dry-run", "--project", tiny)
    assert code == 0, err
    code, out, err = cli("build", "tiny", "--project", tmp_path)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"layersmith: error: --project {tmp_path.resolve()} is not a layersmith project (no "
                                "Pulumi.yaml or layers/ there); pass the directory that holds Pulumi.yaml"]


def test_outside_any_project_says_so_in_one_line(tmp_path: Path, cli: CliRun,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("build")
    assert (code, out) == (2, "")
    assert err == (f"layersmith: error: not inside a layersmith project: no Pulumi.yaml in {tmp_path.resolve()} or "
                   "any parent directory; cd into the project or pass --project DIR\n")
