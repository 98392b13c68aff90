"""The whole policy pack over the real program for every committed stack, and the real CrossGuard server.

1. Every `Pulumi.<stack>.yaml`: the program under mocks (`layersmith.infra.preview.run_plan`, the same JSON
   as `layersmith plan --json`) checked by every rule with `policies/config/<stack>.json` (else dev):
   no mandatory violation. Advisories are printed, not failed: a stack may demonstrate one.
2. `policies/` started the way `pulumi preview --policy-pack policies` starts it
   (`python -u -m pulumi.policy <engine> policies`), then driven over gRPC like the Pulumi CLI does:
   GetAnalyzerInfo, Configure (the reconciled prod config), Analyze, AnalyzeStack.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layersmith.policy.engine import blocking, check_plan, config_path, format_violations, load_config, resolve
from layersmith.policy.rules import RULES
from layersmith.project.checkout import load_project

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def _run_plan(stack: str) -> dict[str, Any]:
    from layersmith.infra.preview import run_plan  # a broken import must fail this test, never skip it

    return run_plan(load_project(ROOT), stack)


@pytest.mark.network  # plans build the repo's layers: uv downloads from PyPI
@pytest.mark.parametrize("stack", STACKS or [pytest.param(None, marks=pytest.mark.skip("no Pulumi.*.yaml"))])
def test_committed_stack_passes_the_policy_pack(stack: str) -> None:
    plan = _run_plan(stack)
    source = config_path(ROOT, stack)
    violations = check_plan(plan, load_config(source), dt.date.today(), source=str(source))
    print(f"{stack} ({source.name}):\n{format_violations(violations)}")
    assert plan["resources"], "the mocked program registered nothing: the check would be vacuous"
    assert not blocking(violations), format_violations(blocking(violations))


@pytest.mark.network
def test_the_stack_check_is_not_vacuous() -> None:
    """The real dev plan with one function moved to the other CPU: every layer it attaches refuses it."""
    if "dev" not in STACKS:
        pytest.skip("no Pulumi.dev.yaml")
    plan = _run_plan("dev")
    functions = [r for r in plan["resources"] if r["type"] == "aws:lambda/function:Function"]
    target = functions[0]["inputs"]
    target["architectures"] = ["arm64" if target.get("architectures") == ["x86_64"] else "x86_64"]
    found = check_plan(plan, load_config(config_path(ROOT, "dev")), dt.date.today())
    compat = [v for v in blocking(found) if v.rule == "function-layers-compatible"]
    native = [arn for arn in target["layers"] if "-py3" in arn]  # portable layers support both CPUs
    assert native and len(compat) == len(native), format_violations(found)


# --- the real analyzer server -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def analyzer() -> Iterator[Any]:
    from grpc_engine import plugin_channel
    from pulumi.runtime.proto import analyzer_pb2_grpc

    # The engine address is only used to log; nothing listens there and nothing is sent.
    with plugin_channel([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:9", "policies"], ROOT) as channel:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)


def _struct(values: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _configure(stub: Any, env: str) -> None:
    """What the CLI sends for `--policy-pack-config policies/config/<env>.json`: every policy, reconciled."""
    from pulumi.runtime.proto import analyzer_pb2 as pb

    levels = {"mandatory": pb.MANDATORY, "advisory": pb.ADVISORY, "disabled": pb.DISABLED}
    resolved = resolve(load_config(ROOT / "policies" / "config" / f"{env}.json"))
    stub.Configure(pb.ConfigureAnalyzerRequest(policyConfig={
        name: pb.PolicyConfig(enforcementLevel=levels[level], properties=_struct(options))
        for name, (level, options) in resolved.items()}))


def _diagnostics(response: Any) -> list[tuple[str, str, str]]:
    from pulumi.runtime.proto import analyzer_pb2 as pb

    names = {pb.MANDATORY: "mandatory", pb.ADVISORY: "advisory"}
    return [(d.policyName, names.get(d.enforcementLevel, "?"), d.message) for d in response.diagnostics]


def test_pack_server_lists_every_rule_with_its_default_level(analyzer: Any) -> None:
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2 as pb

    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "layersmith" and info.supportsConfig
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels == {r.name: pb.MANDATORY if r.level == "mandatory" else pb.ADVISORY for r in RULES}


def test_pack_server_enforces_rules_with_the_environment_config(analyzer: Any) -> None:
    from pulumi.runtime.proto import analyzer_pb2 as pb
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    grant = {"layerName": "arn:aws:lambda:eu-west-1:123456789012:layer:l", "versionNumber": 1,
             "statementId": "all", "action": "lambda:GetLayerVersion", "principal": "*", "skipDestroy": False}
    typ = "aws:lambda/layerVersionPermission:LayerVersionPermission"
    _configure(analyzer, "dev")
    dev = _diagnostics(analyzer.Analyze(pb.AnalyzeRequest(type=typ, properties=_struct(grant), urn="u", name="g")))
    assert ("layer-not-public", "mandatory") in [d[:2] for d in dev]
    assert ("layer-versions-retained", "advisory") in [d[:2] for d in dev]  # dev lowers it
    _configure(analyzer, "prod")
    prod = _diagnostics(analyzer.Analyze(pb.AnalyzeRequest(type=typ, properties=_struct(grant), urn="u", name="g")))
    assert ("layer-versions-retained", "mandatory") in [d[:2] for d in prod]

    preview = {**grant, "principal": UNKNOWN_STRING_VALUE}
    notes = _diagnostics(analyzer.Analyze(pb.AnalyzeRequest(type=typ, properties=_struct(preview), urn="u", name="g")))
    public = [d for d in notes if d[0] == "layer-not-public"]
    assert len(public) == 1 and public[0][1] == "advisory" and "`principal` is not known" in public[0][2]


def test_pack_server_runs_stack_policies(analyzer: Any) -> None:
    from pulumi.runtime.proto import analyzer_pb2 as pb

    _configure(analyzer, "prod")
    layer = {"layerName": "ls-prod-utils", "compatibleRuntimes": ["python3.12"],
             "compatibleArchitectures": ["x86_64"], "licenseInfo": "MIT", "description": "d", "skipDestroy": True}
    function = {"name": "ls-prod-f", "runtime": "python3.12", "architectures": ["arm64"],
                "layers": ["arn:aws:lambda:eu-west-1:123456789012:layer:ls-prod-utils:3"]}
    resources = [pb.AnalyzerResource(type="aws:lambda/layerVersion:LayerVersion", properties=_struct(layer),
                                     urn="urn:layer", name="utils"),
                 pb.AnalyzerResource(type="aws:lambda/function:Function", properties=_struct(function),
                                     urn="urn:fn", name="f")]
    found = analyzer.AnalyzeStack(pb.AnalyzeStackRequest(resources=resources)).diagnostics
    compat = [d for d in found if d.policyName == "function-layers-compatible"]
    assert len(compat) == 1 and compat[0].urn == "urn:fn" and "does not support arm64" in compat[0].message
