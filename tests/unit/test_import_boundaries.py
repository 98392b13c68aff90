"""The package boundaries docs/architecture.md promises, read from the source (no import needed).

- only `layersmith/infra/` imports pulumi, pulumi_aws or pulumi_policy;
- the project model (specs, config, model, ...) never imports the builder: variants are expanded by
  `model.expand_variants`, the builder consumes the model, not the other way round;
- `import layersmith` and the CLI's own start-up import neither pulumi nor boto3.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layersmith"
PULUMI = ("pulumi", "pulumi_aws", "pulumi_policy")
MODEL = ("model", "specs", "config", "project", "runtimes", "errors", "naming", "function_keys", "overrides",
         "lockfile")


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module a file imports, at any depth (lazy imports inside functions included)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def offenders(paths: list[Path], banned: tuple[str, ...]) -> list[str]:
    return [f"{path.name}:{line} imports {name}"
            for path in paths for line, name in imports(path)
            if any(name == b or name.startswith(b + ".") for b in banned)]


def test_only_infra_imports_pulumi() -> None:
    outside = [p for p in sorted(PACKAGE.rglob("*.py")) if "infra" not in p.relative_to(PACKAGE).parts]
    assert outside, "no modules found: the test would pass vacuously"
    assert offenders(outside, PULUMI) == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The rule above can fail: a lazy import inside a function counts."""
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import os\n\ndef f():\n    from pulumi_aws import lambda_\n    import pulumi.dynamic\n")
    assert offenders([sneaky], PULUMI) == ["sneaky.py:4 imports pulumi_aws", "sneaky.py:5 imports pulumi.dynamic"]


def test_the_project_model_does_not_import_the_builder() -> None:
    model = [PACKAGE / f"{name}.py" for name in MODEL]
    assert all(p.exists() for p in model), [p for p in model if not p.exists()]
    assert offenders(model, ("layersmith.builder", *PULUMI)) == []


@pytest.mark.parametrize("statement", ["import layersmith", "import layersmith.cli"])
def test_start_up_imports_neither_pulumi_nor_boto3(statement: str) -> None:
    probe = f"{statement}; import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
            "('pulumi', 'pulumi_aws', 'pulumi_policy', 'boto3', 'botocore')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_resolves() -> None:
    import layersmith

    missing = [name for name in layersmith.__all__ if not hasattr(layersmith, name)]
    assert missing == []
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        layersmith.nope  # noqa: B018
