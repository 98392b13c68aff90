"""mypy follows only the pulumi_aws service packages the code uses (pyproject.toml, issue 25): every
other one is skipped, so it types as `Any`. This keeps that list complete: a service the code starts
using without adding it there would go unchecked, silently."""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path

from helpers import REPO


def pulumi_aws_services() -> set[str]:
    """The sub-packages of the installed pulumi_aws (lambda_, iam, s3, …)."""
    spec = importlib.util.find_spec("pulumi_aws")
    assert spec is not None and spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations)))
    return {p.parent.name for p in root.glob("*/__init__.py")}


def _imported(node: ast.Import | ast.ImportFrom, services: set[str]) -> tuple[set[str], set[str]]:
    """(services, names bound to the pulumi_aws package) of one import statement."""
    if isinstance(node, ast.ImportFrom):
        parts = (node.module or "").split(".")
        if parts[0] != "pulumi_aws":
            return set(), set()
        return set(parts[1:2] or [n.name for n in node.names if n.name in services]), set()
    used, aliases = set(), set()
    for name in node.names:
        parts = name.name.split(".")
        if parts[0] == "pulumi_aws":
            used.update(parts[1:2])
            if name.asname or len(parts) == 1:
                aliases.add(name.asname or "pulumi_aws")
    return used, aliases


def used_services(source: str, services: set[str]) -> set[str]:
    """pulumi_aws sub-packages one module reaches: `import pulumi_aws as A` then `A.<service>.…`,
    `import pulumi_aws.<service>`, `from pulumi_aws import <service>`, `from pulumi_aws.<service> import …`."""
    tree = ast.parse(source)
    used: set[str] = set()
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found, bound = _imported(node, services)
            used |= found
            aliases |= bound
    used.update(node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name) and node.value.id in aliases and node.attr in services)
    return used


def followed() -> set[str]:
    """The `pulumi_aws.<service>.*` patterns whose override says follow_imports = "normal"."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    out = set()
    for override in config.get("overrides", []):
        if override.get("follow_imports") == "normal":
            out.update(m.removeprefix("pulumi_aws.").removesuffix(".*") for m in override["module"]
                       if m.startswith("pulumi_aws.") and m.endswith(".*"))
    return out


def test_the_finder_sees_every_spelling() -> None:
    services = {"lambda_", "iam", "s3", "ec2", "sqs"}
    code = ("import pulumi_aws as aws\nimport pulumi_aws.sqs\nfrom pulumi_aws import iam\n"
            "from pulumi_aws.ec2 import Instance\nx = aws.lambda_.Function\ny = aws.get_caller_identity()\n")
    assert used_services(code, services) == {"lambda_", "iam", "ec2", "sqs"}


def test_every_pulumi_aws_service_the_code_uses_is_followed_by_mypy() -> None:
    services = pulumi_aws_services()
    assert {"lambda_", "iam", "s3", "ec2"} <= services
    used: dict[str, list[str]] = {}
    for path in sorted((REPO / "layersmith").rglob("*.py")):
        for service in used_services(path.read_text(encoding="utf-8"), services):
            used.setdefault(service, []).append(str(path.relative_to(REPO)))
    assert "lambda_" in used  # the scan finds what infra really uses
    missing = {s: files for s, files in used.items() if s not in followed()}
    assert missing == {}, f"add pulumi_aws.<service>.* to pyproject.toml's follow_imports = \"normal\" list: {missing}"
