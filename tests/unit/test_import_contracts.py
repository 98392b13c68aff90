"""The package's layering, as pyproject.toml's import-linter contracts state it (`make lint` runs them):
the layers from `cli` down to `errors`, "only infra imports pulumi", and no cycle in any package.

The contracts run here on the real package, and on copies of it with one import injected, to show
that each contract fails on the mistake it exists for (a check that cannot fail proves nothing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the `layersmith` package found under `root`, with `root`'s contracts."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "layersmith", tmp_path / "layersmith", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def inject(copy: Path, module: str, line: str) -> None:
    path = copy / "layersmith" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _injected() -> None:\n    {line}\n")


def test_the_package_keeps_every_contract() -> None:
    done = lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    # an upward import: the project model reaching into the builder (variants are the model's job)
    ("project/specs.py", "from layersmith.builder import cache", "Layers"),
    # the ground importing a stage
    ("errors.py", "from layersmith.project import checkout", "Layers"),
    # two independent siblings: the fleet report reaching into the check report
    ("fleet/treemap.py", "from layersmith.checks import report", "Layers"),
    # pulumi outside infra, even lazily inside a function
    ("local/invoke.py", "import pulumi", "Only layersmith.infra imports Pulumi"),
    # the cycle the regrouping broke: the stack-file parser importing the Project that uses it
    ("project/stacks.py", "from layersmith.project.checkout import Project", "No cycles"),
])
def test_each_contract_fails_on_its_mistake(copy: Path, module: str, line: str, broken: str) -> None:
    inject(copy, module, line)
    done = lint(copy)
    assert done.returncode != 0
    # the report lists the broken contracts by name under its own heading, after the summary
    _summary, _, broken_section = done.stdout.partition("Broken contracts")
    assert broken in broken_section, done.stdout
