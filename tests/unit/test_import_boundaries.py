"""What the import-linter contracts (pyproject.toml, tests/unit/test_import_contracts.py) cannot see:
`import layersmith` and the CLI's own start-up import neither pulumi nor boto3 at run time, and the
public API resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest


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
