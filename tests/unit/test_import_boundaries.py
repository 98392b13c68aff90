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


def test_the_offline_commands_start_without_boto3() -> None:
    # Issue 25: boto3 and botocore's session/config/credentials took ~0.3 s of every `check` and
    # `invoke`; they load (layersmith.aws.sessions) only where a session is made.
    probe = ("import layersmith.commands.check, layersmith.commands.invoke, layersmith.commands.plan, "
             "layersmith.aws.clients, layersmith.aws.content, layersmith.regions as r; r.known_regions(); "
             "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] == 'boto3' "
             "or m in ('botocore.session', 'botocore.config', 'botocore.credentials', 'botocore.loaders')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
