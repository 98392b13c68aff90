"""Project discovery: the nearest `Pulumi.yaml` from the working directory up, as git and pulumi do."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersmith.errors import UserError
from layersmith.project.discovery import find_project, resolve_project


def _project(root: Path) -> Path:
    (root / "layers" / "utils" / "src").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: p\nruntime: python\n", encoding="utf-8")
    return root


def test_the_nearest_pulumi_yaml_upwards_is_the_project(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    assert find_project(root) == root.resolve()
    assert find_project(root / "layers") == root.resolve()
    assert find_project(root / "layers" / "utils" / "src") == root.resolve()
    inner = _project(root / "layers" / "utils" / "nested")  # the nearest one wins, as with git
    assert find_project(inner / "layers") == inner.resolve()


def test_a_project_without_pulumi_yaml_is_found_only_from_its_own_directory(tmp_path: Path) -> None:
    (tmp_path / "bare" / "layers" / "x").mkdir(parents=True)
    assert find_project(tmp_path / "bare") == (tmp_path / "bare").resolve()
    assert find_project(tmp_path / "bare" / "layers" / "x") is None


def test_no_project_anywhere_up_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        resolve_project(None, tmp_path)
    assert caught.value.exit_code == 2
    assert caught.value.render() == (f"not inside a layersmith project: no Pulumi.yaml in {tmp_path.resolve()} or "
                                     "any parent directory; cd into the project or pass --project DIR")


def test_an_explicit_project_is_taken_as_given_not_searched(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    assert resolve_project(Path("p"), tmp_path) == root.resolve()  # relative to the working directory
    with pytest.raises(UserError, match="not a layersmith project"):
        resolve_project(root / "layers", tmp_path)
