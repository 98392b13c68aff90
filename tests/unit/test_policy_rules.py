"""Every policy rule with passing and failing fixtures, unknown values, config levels, CrossGuard wrappers.

Resources are hand-written in the shape `layersmith plan --json` produces (camelCase pulumi-aws inputs).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from layersmith.policy import UNKNOWN, Violation
from layersmith.policy import resource_types as t
from layersmith.policy.engine import PolicyConfigError, blocking, check_plan, evaluate, format_violations
from layersmith.policy.rules import RULES, RULES_BY_NAME

TODAY = dt.date(2026, 11, 23)
ACCOUNT, PARTNER, STRANGER = "123456789012", "210987654321", "999999999999"
ORG = "o-a1b2c3d4e5"
REGION = "eu-west-1"
CONFIG: dict[str, Any] = {
    "layer-grants-scoped": {"allowedAccounts": [ACCOUNT, PARTNER], "allowedOrganizations": [ORG]},
    "function-layers-valid": {"allowedAccounts": [ACCOUNT]},
}
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def layer_arn(name: str = "ls-dev-utils", version: int | None = 1, region: str = REGION,
              account: str = ACCOUNT) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:layer:{name}"
    return arn if version is None else f"{arn}:{version}"


def res(type_: str, logical: str, **inputs: Any) -> dict[str, Any]:
    return {"type": type_, "name": logical, "inputs": inputs}


def layer(**over: Any) -> dict[str, Any]:
    inputs = {"layerName": "ls-dev-utils", "compatibleRuntimes": ["python3.11", "python3.12"],
              "compatibleArchitectures": ["x86_64", "arm64"], "licenseInfo": "MIT",
              "description": "The team's shared code", "skipDestroy": True, "code": "utils.zip"}
    return res(t.LAYER_VERSION, "utils", **{**inputs, **over})


def grant(**over: Any) -> dict[str, Any]:
    inputs = {"layerName": layer_arn(version=None), "versionNumber": 1.0, "statementId": f"account-{PARTNER}",
              "action": "lambda:GetLayerVersion", "principal": PARTNER, "skipDestroy": True}
    return res(t.LAYER_PERMISSION, "utils-share", **{**inputs, **over})


def function(**over: Any) -> dict[str, Any]:
    inputs = {"name": "ls-dev-orders", "role": f"arn:aws:iam::{ACCOUNT}:role/orders", "runtime": "python3.12",
              "architectures": ["arm64"], "handler": "handler.handler", "layers": [layer_arn()],
              "memorySize": 256.0, "timeout": 15.0, "tracingConfig": {"mode": "Active"},
              "reservedConcurrentExecutions": 5.0, "region": REGION,
              "codeSigningConfigArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-1",
              "environment": {"variables": {"LOG_LEVEL": "INFO", "DB_SECRET_ARN": "arn:aws:secretsmanager:x"}},
              "kmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"}
    return res(t.FUNCTION, "orders", **{**inputs, **over})


def policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "arn:aws:s3:::bucket/*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def role(**over: Any) -> dict[str, Any]:
    return res(t.ROLE, "orders-role", **{"assumeRolePolicy": LAMBDA_TRUST, **over})


def findings(rule: str, *resources: dict[str, Any], config: dict[str, Any] | None = None,
             today: dt.date = TODAY) -> list[Violation]:
    return [v for v in evaluate(list(resources), CONFIG if config is None else config, today) if v.rule == rule]


# (rule, resources, None = passes | substring of the failure message)
CASES: list[tuple[str, list[dict[str, Any]], str | None]] = [
    ("layer-not-public", [grant()], None),
    ("layer-not-public", [grant(principal="*", organizationId=ORG)], None),
    ("layer-not-public", [grant(principal="*")], "readable by every AWS account"),
    ("layer-not-public", [grant(principal="*", organizationId="")], "without `organizationId`"),
    ("layer-grants-scoped", [grant()], None),
    ("layer-grants-scoped", [grant(principal=f"arn:aws:iam::{PARTNER}:root")], None),
    ("layer-grants-scoped", [grant(principal="*", organizationId=ORG, statementId="org-o-a1b2c3d4e5")], None),
    ("layer-grants-scoped", [grant(action="lambda:*")], "grants more than reading"),
    ("layer-grants-scoped", [grant(principal=STRANGER)], "not an account in allowedAccounts"),
    ("layer-grants-scoped", [grant(principal="*", organizationId="o-zzzzzzzzzz")], "not in allowedOrganizations"),
    ("layer-grants-scoped", [grant(statementId="share with partner")], "statementId"),
    ("layer-grants-scoped", [grant(statementId="x" * 101)], "statementId"),
    ("layer-versions-retained", [layer(), grant()], None),
    ("layer-versions-retained", [layer(skipDestroy=False)], "deletes this layer version"),
    ("layer-versions-retained", [grant(skipDestroy=None)], "deletes this grant"),
    ("layer-metadata-complete", [layer()], None),
    ("layer-metadata-complete", [layer(compatibleRuntimes=[])], "compatibleRuntimes is not set"),
    ("layer-metadata-complete", [layer(compatibleRuntimes=["python3.8"])], "'python3.8' is not supported"),
    ("layer-metadata-complete", [layer(compatibleRuntimes=["python3.10"])], "deprecated on 2026-10-31"),
    ("layer-metadata-complete", [layer(compatibleArchitectures=None)], "compatibleArchitectures is not set"),
    ("layer-metadata-complete", [layer(compatibleArchitectures=["aarch64"])], "'aarch64'"),
    ("layer-metadata-complete", [layer(licenseInfo=" ")], "licenseInfo is not set"),
    # Issue 24: the fix is named where the user makes it.
    ("layer-metadata-complete", [layer(licenseInfo=None)], "set `license` in the layer's layer.toml"),
    ("layer-metadata-complete", [layer(description="")], "set `description` in the layer's layer.toml"),
    ("layer-metadata-complete", [layer(description="d" * 257)], "at most 256"),
    ("function-runtime-not-deprecated", [function()], None),
    ("function-runtime-not-deprecated", [function(runtime=None, packageType="Image")], None),
    ("function-runtime-not-deprecated", [function(runtime="python3.10")], "deprecated on 2026-10-31"),
    ("function-runtime-not-deprecated", [function(runtime="python3.9")], "move to python3.14"),
    ("function-runtime-deprecation-warning", [function(runtime="python3.11")], None),  # 219 days left
    ("function-runtime-deprecation-warning", [function(runtime="python3.10")], None),  # mandatory rule's job
    ("function-layers-valid", [function()], None),
    ("function-layers-valid", [function(layers=[])], None),
    ("function-layers-valid", [function(layers=[layer_arn(version=None)])], "has no version"),
    ("function-layers-valid", [function(layers=["utils"])], "not a layer version ARN"),
    ("function-layers-valid", [function(layers=[layer_arn(region="us-east-1")])], "is in us-east-1"),
    ("function-layers-valid", [function(layers=[layer_arn(account=STRANGER)])], "owned by account 9999"),
    ("function-layers-valid", [function(layers=[layer_arn(f"l{i}") for i in range(6)])], "at most 5"),
    ("function-layers-compatible", [layer(), function()], None),
    ("function-layers-compatible", [layer(), function(layers=[layer_arn("someone-elses", 3)])], None),
    ("function-layers-compatible", [layer(compatibleArchitectures=["x86_64"]), function()], "does not support arm64"),
    ("function-layers-compatible", [layer(compatibleRuntimes=["python3.11"]), function()],
     "does not support python3.12"),
    ("function-layers-compatible", [layer(compatibleArchitectures=["arm64"]), function(architectures=None)],
     "does not support x86_64"),  # Lambda's default architecture
    ("function-code-signing", [function()], None),
    ("function-code-signing", [function(codeSigningConfigArn=None)], "unsigned code"),
    ("invoke-permissions-scoped", [res(t.PERMISSION, "p", principal=ACCOUNT, action="lambda:InvokeFunction")], None),
    ("invoke-permissions-scoped",
     [res(t.PERMISSION, "p", principal="s3.amazonaws.com", sourceArn="arn:aws:s3:::b", function="f")], None),
    ("invoke-permissions-scoped", [res(t.FUNCTION_URL, "u", authorizationType="AWS_IAM")], None),
    ("invoke-permissions-scoped", [res(t.PERMISSION, "p", principal="*")], "principal `*`"),
    ("invoke-permissions-scoped", [res(t.PERMISSION, "p", principal="sns.amazonaws.com")], "confused deputy"),
    ("invoke-permissions-scoped",
     [res(t.PERMISSION, "p", principal=ACCOUNT, functionUrlAuthType="NONE")], "unauthenticated"),
    ("invoke-permissions-scoped", [res(t.FUNCTION_URL, "u", authorizationType="NONE")], "unauthenticated"),
    ("execution-role-least-privilege", [role(), res(t.ROLE_POLICY_ATTACHMENT, "a", role="r", policyArn=BASIC),
                                        res(t.ROLE_POLICY, "p", role="r", policy=policy_doc(allow("s3:GetObject")))],
     None),
    ("execution-role-least-privilege", [role(assumeRolePolicy=policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{STRANGER}:root"}, "Action": "sts:AssumeRole"}))],
     "also trusts AWS:arn:aws:iam::999999999999:root"),
    ("execution-role-least-privilege", [role(assumeRolePolicy=policy_doc(
        {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}}))],
     "ec2.amazonaws.com"),
    ("execution-role-least-privilege", [role(assumeRolePolicy="{not json")], "not a JSON policy"),
    ("execution-role-least-privilege",
     [res(t.ROLE_POLICY_ATTACHMENT, "a", role="r", policyArn="arn:aws:iam::aws:policy/AdministratorAccess")],
     "administrator"),
    ("execution-role-least-privilege", [role(managedPolicyArns=["arn:aws:iam::aws:policy/IAMFullAccess"])],
     "administrator"),
    ("execution-role-least-privilege", [res(t.ROLE_POLICY, "p", policy=policy_doc(allow("*:*", "*")))],
     "every action"),
    ("execution-role-least-privilege",
     [role(inlinePolicies=[{"name": "x", "policy": policy_doc(allow(["s3:GetObject", "*"]))}])], "every action"),
    ("execution-role-least-privilege",
     [res(t.ROLE_POLICY, "p", policy=policy_doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))],
     "NotAction"),
    ("execution-role-no-wildcards", [res(t.ROLE_POLICY, "p", policy=policy_doc(
        allow("s3:GetObject"), allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*")))], None),
    ("execution-role-no-wildcards", [res(t.ROLE_POLICY, "p", policy=policy_doc(allow("s3:*")))],
     "wildcard actions ['s3:*']"),
    ("execution-role-no-wildcards", [res(t.ROLE_POLICY, "p", policy=policy_doc(allow("s3:GetObject", "*")))],
     "every resource"),
    ("execution-role-no-wildcards",
     [res(t.ROLE_POLICY_ATTACHMENT, "a", policyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")],
     "every action of a service"),
    ("function-env-no-secrets", [function()], None),
    ("function-env-no-secrets", [function(environment={"variables": {"TOKEN_TTL": "3600", "API_KEY": ""}})], None),
    ("function-env-no-secrets", [function(environment={"variables": {"DB_PASSWORD": "hunter2hunter2"}})],
     "DB_PASSWORD is named like a secret"),
    ("function-env-no-secrets", [function(environment={"variables": {"X": "AKIAIOSFODNN7EXAMPLE"}})],
     "X holds what looks like a credential"),
    ("function-env-no-secrets",
     [function(environment={"variables": {"DSN": "postgres://app:s3cr3t@db.internal:5432/app"}})],
     "DSN holds what looks like a credential"),
    ("function-env-no-secrets", [function(environment={"variables": {"GITHUB_TOKEN": "ghp_" + "a" * 36}})],
     "GITHUB_TOKEN"),
    ("function-env-encrypted", [function()], None),
    ("function-env-encrypted", [function(environment=None, kmsKeyArn=None)], None),
    ("function-env-encrypted", [function(kmsKeyArn=None)], "no kmsKeyArn"),
    ("function-observability", [function()], None),
    ("function-observability", [function(tracingConfig={"mode": "PassThrough"})], "not Active"),
    ("function-observability", [function(tracingConfig=None)], "not Active"),
    ("function-observability", [function(reservedConcurrentExecutions=-1.0)], "reservedConcurrentExecutions"),
    ("function-async-failure-destination", [function()], None),
    ("function-async-failure-destination",
     [function(), res(t.PERMISSION, "p", principal="s3.amazonaws.com", function="ls-dev-orders", sourceArn="b")],
     "invoked asynchronously (s3.amazonaws.com via p)"),
    ("function-async-failure-destination",
     [function(deadLetterConfig={"targetArn": "arn:aws:sqs:eu-west-1:123456789012:dlq"}),
      res(t.PERMISSION, "p", principal="s3.amazonaws.com", function="ls-dev-orders", sourceArn="b")], None),
    ("function-async-failure-destination",
     [function(), res(t.EVENT_INVOKE_CONFIG, "c",
                      functionName=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ls-dev-orders:live",
                      destinationConfig={"onFailure": {"destination": "arn:aws:sqs:x"}})], None),
    ("function-async-failure-destination",
     [function(), res(t.EVENT_INVOKE_CONFIG, "c", functionName="ls-dev-orders", maximumRetryAttempts=0.0)],
     "event invoke config c"),
    ("function-async-failure-destination",  # SQS is polled, not an async invoke
     [function(), res(t.PERMISSION, "p", principal="sqs.amazonaws.com", function="ls-dev-orders", sourceArn="q")],
     None),
]


@pytest.mark.parametrize(("rule", "resources", "expected"), CASES,
                         ids=[f"{c[0]}-{'pass' if c[2] is None else 'fail'}-{i}" for i, c in enumerate(CASES)])
def test_rule(rule: str, resources: list[dict[str, Any]], expected: str | None) -> None:
    found = findings(rule, *resources)
    assert not [v for v in found if v.skipped], found
    if expected is None:
        assert found == []
    else:
        assert found, f"{rule} passed; expected a violation containing {expected!r}"
        assert any(expected in v.message for v in found), [v.message for v in found]
        assert {v.level for v in found} == {RULES_BY_NAME[rule].level}


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    passing = {c[0] for c in CASES if c[2] is None}
    failing = {c[0] for c in CASES if c[2] is not None} | {"function-runtime-deprecation-warning"}
    assert {r.name for r in RULES} == passing == failing


def test_deprecation_warning_window_is_configurable() -> None:
    soon = dt.date(2027, 6, 30) - dt.timedelta(days=180)
    found = findings("function-runtime-deprecation-warning", function(runtime="python3.11"), today=soon)
    assert [v.level for v in found] == ["advisory"] and "in 180 days" in found[0].message
    assert findings("function-runtime-deprecation-warning", function(runtime="python3.11"),
                    today=soon - dt.timedelta(days=1)) == []
    wide = {"function-runtime-deprecation-warning": {"deprecationWarningDays": 365}}
    assert findings("function-runtime-deprecation-warning", function(runtime="python3.11"), config=wide)
    # and on the day itself the mandatory rule takes over
    assert findings("function-runtime-not-deprecated", function(runtime="python3.11"), today=dt.date(2027, 6, 30))


def test_a_complete_good_stack_has_no_findings_at_all() -> None:
    stack = [layer(), grant(), grant(principal="*", organizationId=ORG, statementId="org-o-a1b2c3d4e5"),
             function(), role(), res(t.ROLE_POLICY_ATTACHMENT, "a", role="r", policyArn=BASIC),
             res(t.PERMISSION, "p", principal="s3.amazonaws.com", function="ls-dev-orders", sourceArn="b"),
             res(t.EVENT_INVOKE_CONFIG, "c", functionName="ls-dev-orders",
                 destinationConfig={"onFailure": {"destination": "arn:aws:sqs:x"}}),
             res("aws:cloudwatch/logGroup:LogGroup", "logs", retentionInDays=14.0),
             res("layersmith:index:SharedLayer", "utils")]
    assert evaluate(stack, CONFIG, TODAY) == []


# --- unknown values: the rule skips with a note, never passes silently ------------------------------

UNKNOWN_CASES: list[tuple[str, dict[str, Any]]] = [
    ("layer-not-public", grant(principal=UNKNOWN)),
    ("layer-grants-scoped", grant(principal={"unknown": True})),
    ("layer-versions-retained", layer(skipDestroy=UNKNOWN)),
    ("layer-metadata-complete", layer(compatibleRuntimes=UNKNOWN)),
    ("function-runtime-not-deprecated", function(runtime=UNKNOWN)),
    ("function-runtime-not-deprecated", function(runtime="nodejs22.x")),  # not in the table: noted
    ("function-layers-valid", function(layers=[layer_arn(), UNKNOWN])),
    ("function-layers-valid", function(region=None)),
    ("function-layers-compatible", function(layers=[UNKNOWN])),
    ("function-code-signing", function(codeSigningConfigArn=UNKNOWN)),
    ("invoke-permissions-scoped", res(t.PERMISSION, "p", principal="s3.amazonaws.com", sourceArn=UNKNOWN)),
    ("execution-role-least-privilege", role(assumeRolePolicy=UNKNOWN)),
    ("execution-role-no-wildcards", res(t.ROLE_POLICY, "p", policy=UNKNOWN)),
    ("function-env-no-secrets", function(environment={"variables": {"DB_PASSWORD": UNKNOWN}})),
    ("function-env-encrypted", function(kmsKeyArn=UNKNOWN)),
    ("function-observability", function(tracingConfig={"mode": UNKNOWN})),
]


@pytest.mark.parametrize(("rule", "resource"), UNKNOWN_CASES, ids=[c[0] for c in UNKNOWN_CASES])
def test_unknown_values_skip_with_a_note(rule: str, resource: dict[str, Any]) -> None:
    stack = [layer(), resource] if rule == "function-layers-compatible" else [resource]
    found = findings(rule, *stack)
    assert found and all(v.skipped for v in found), found
    assert not blocking(found)


def test_unknown_elements_do_not_hide_known_violations() -> None:
    found = findings("function-layers-valid", function(layers=[UNKNOWN, layer_arn(version=None)]))
    assert [v.skipped for v in found] == [True, False]
    assert blocking(found)


def test_async_rule_notes_an_unknown_target_and_a_stack_rule_names_the_resource() -> None:
    found = findings("function-async-failure-destination", function(),
                     res(t.PERMISSION, "p", principal="sns.amazonaws.com", function=UNKNOWN, sourceArn="t"))
    assert [(v.skipped, v.resource_name) for v in found] == [(True, "p")]


# --- enforcement levels and options from the policy config ------------------------------------------

def test_config_lowers_and_raises_levels() -> None:
    lowered = findings("layer-versions-retained", layer(skipDestroy=False),
                       config={**CONFIG, "layer-versions-retained": "advisory"})
    assert [v.level for v in lowered] == ["advisory"] and not blocking(lowered)
    raised = findings("function-code-signing", function(codeSigningConfigArn=None),
                      config={**CONFIG, "function-code-signing": {"enforcementLevel": "mandatory"}})
    assert [v.level for v in raised] == ["mandatory"] and blocking(raised)


def test_disabled_rules_do_not_run_and_all_sets_the_default() -> None:
    assert findings("layer-not-public", grant(principal="*"), config={"layer-not-public": "disabled"}) == []
    everything = evaluate([grant(principal="*")], {"all": "advisory"}, TODAY)
    assert everything and {v.level for v in everything} == {"advisory"}
    own_entry_wins = evaluate([grant(principal="*")], {"all": "advisory", "layer-not-public": "mandatory"}, TODAY)
    assert {v.level for v in own_entry_wins if v.rule == "layer-not-public"} == {"mandatory"}


def test_options_default_to_an_empty_allow_list() -> None:
    found = findings("layer-grants-scoped", grant(), config={})
    assert any("not an account in allowedAccounts []" in v.message for v in found)


@pytest.mark.parametrize(("config", "message"), [
    ({"layer-not-publik": "mandatory"}, "unknown policy 'layer-not-publik'"),
    ({"layer-not-public": "blocking"}, "enforcement level 'blocking'"),
    ({"layer-grants-scoped": {"allowedAccount": []}}, "unknown option"),
    ({"layer-grants-scoped": {"allowedAccounts": "123456789012"}}, "expected array"),
    ({"function-env-no-secrets": {"secretPatterns": ["("]}}, "bad regular expression"),
])
def test_bad_configs_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyConfigError, match=message.replace("(", r"\(")):
        evaluate([], config, TODAY, source="policies/config/x.json")


def test_custom_secret_patterns_replace_the_defaults() -> None:
    config = {**CONFIG, "function-env-no-secrets": {"secretPatterns": [r"^internal-"], "secretNamePatterns": []}}
    env = {"variables": {"A": "internal-123", "DB_PASSWORD": "literal"}}
    found = findings("function-env-no-secrets", function(environment=env), config=config)
    assert [v.message.split()[2] for v in found] == ["A"]


# --- the offline CLI hook ---------------------------------------------------------------------------

def test_check_plan_fills_the_region_and_formats_the_report() -> None:
    plan = {"project": "layersmith", "stack": "dev", "region": REGION,
            "resources": [layer(skipDestroy=False), grant(principal="*"), function(region=None)], "outputs": {}}
    found = check_plan(plan, CONFIG, TODAY)
    assert not [v for v in found if "region is not known" in v.message]
    text = format_violations(found)
    lines = text.splitlines()
    assert lines[0].startswith("mandatory") and "layer-not-public" in text
    assert "LayerVersionPermission utils-share: principal `*`" in text
    assert lines[-1] == (f"policy: {len(blocking(found))} mandatory, 0 advisory violation(s), "
                         "0 not checked (unknown values)")
    assert format_violations([]) == "policy: 0 mandatory, 0 advisory violation(s), 0 not checked (unknown values)"


def test_skipped_notes_are_labelled_and_never_block() -> None:
    found = check_plan({"resources": [function(runtime=UNKNOWN)]}, CONFIG, TODAY)
    assert found and not blocking(found)
    assert all(line.startswith("note") for line in format_violations(found).splitlines()[:-1])


# --- CrossGuard wrappers (PolicyPack itself is never constructed here: it starts a server) ----------

def _proxied(props: dict[str, Any]) -> Any:
    from pulumi_policy.proxy import unknown_checking_proxy

    return unknown_checking_proxy(props)


def _provider(region: str) -> Any:
    from pulumi_policy import PolicyProviderResource

    return PolicyProviderResource("pulumi:providers:aws", _proxied({"region": region}), "urn:provider", "default")


def test_build_policies_mirrors_the_rule_table() -> None:
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    from layersmith.infra.crossguard import build_policies

    policies = build_policies()
    assert [p.name for p in policies] == [r.name for r in RULES] and len(policies) == 16
    assert [p.enforcement_level for p in policies] == [EnforcementLevel(r.level) for r in RULES]
    stack = [p.name for p in policies if isinstance(p, StackValidationPolicy)]
    assert stack == ["function-layers-compatible", "function-async-failure-destination"]
    assert sum(isinstance(p, ResourceValidationPolicy) for p in policies) == 14
    schemas = {p.name: p.config_schema for p in policies if p.config_schema is not None}
    assert set(schemas) == {r.name for r in RULES if r.options}
    assert schemas["layer-grants-scoped"].properties["allowedAccounts"]["default"] == []
    assert schemas["function-runtime-deprecation-warning"].properties["deprecationWarningDays"]["default"] == 180


def _validate(rule: str, resource: dict[str, Any], config: dict[str, Any] | None, region: str = REGION,
              reported: list[tuple[str, str | None]] | None = None) -> list[tuple[str, str | None]]:
    from pulumi_policy import ResourceValidationArgs

    from layersmith.infra.crossguard import build_policies

    (policy,) = [p for p in build_policies(today=lambda: TODAY) if p.name == rule]
    reported = [] if reported is None else reported
    args = ResourceValidationArgs(resource["type"], _proxied(resource["inputs"]), f"urn:{resource['name']}",
                                  resource["name"], None, _provider(region), config)  # type: ignore[arg-type]
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def test_resource_wrapper_reports_with_the_urn_and_uses_provider_region_and_config() -> None:
    fn = function(region=None, layers=[layer_arn(region="us-east-1", account=PARTNER)])
    reported = _validate("function-layers-valid", fn, {"allowedAccounts": [ACCOUNT]})
    assert [urn for _, urn in reported] == ["urn:orders", "urn:orders"]
    assert "but the function is in eu-west-1" in reported[0][0] and "owned by account" in reported[1][0]
    assert _validate("function-layers-valid", fn, {"allowedAccounts": [ACCOUNT, PARTNER]}, "us-east-1") == []
    assert _validate("function-layers-valid", function(), None) != []  # defaults: empty allow-list


def test_resource_wrapper_reports_first_then_raises_unknowns_as_a_preview_note() -> None:
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

    fn = function(layers=[layer_arn(version=None), UNKNOWN_STRING_VALUE])
    reported: list[tuple[str, str | None]] = []
    with pytest.raises(UnknownValueError) as caught:
        _validate("function-layers-valid", fn, {"allowedAccounts": [ACCOUNT]}, reported=reported)
    assert "`layers[1]` is not known until deployment" in caught.value.message
    # the known violation was reported before the note was raised (CrossGuard keeps both)
    assert len(reported) == 1 and "has no version" in reported[0][0]


def test_resource_wrapper_ignores_other_types() -> None:
    assert _validate("layer-not-public", function(), None) == []


def test_stack_wrapper_sees_every_resource_and_names_the_function() -> None:
    from pulumi_policy import PolicyResource, StackValidationArgs

    from layersmith.infra.crossguard import build_policies

    (policy,) = [p for p in build_policies() if p.name == "function-layers-compatible"]
    stack = [layer(compatibleArchitectures=["x86_64"]), function()]
    resources = [PolicyResource(r["type"], _proxied(r["inputs"]), f"urn:{r['name']}", r["name"], None,  # type: ignore[arg-type]
                                None, None, [], {}) for r in stack]
    reported: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs(resources, {}), lambda m, urn=None: reported.append((m, urn)))
    assert len(reported) == 1 and reported[0][1] == "urn:orders" and "does not support arm64" in reported[0][0]


def test_docs_and_shipped_configs_cover_every_rule() -> None:
    from pathlib import Path

    from layersmith.policy.engine import load_config, resolve

    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "policies.md").read_text(encoding="utf-8")
    assert [r.name for r in RULES if f"`{r.name}`" not in docs] == []
    configs = sorted((root / "policies" / "config").glob("*.json"))
    assert {p.stem for p in configs} >= {"dev", "staging", "prod"}
    levels = {p.stem: resolve(load_config(p))["layer-versions-retained"][0] for p in configs}
    assert levels["dev"] == "advisory" and levels["staging"] == levels["prod"] == "mandatory"


def grants(*statements: dict[str, Any], retain: bool = True) -> dict[str, Any]:
    """layersmith's own `LayerGrants`: every statement of one version in one resource."""
    return res(t.LAYER_GRANTS, "utils-any-grants", layerArn=layer_arn(version=None), version=1.0, retain=retain,
               action="lambda:GetLayerVersion", statements=list(statements))


def statement(principal: str = PARTNER, org: str | None = None, sid: str | None = None) -> dict[str, Any]:
    derived = f"org-{org}" if org else ("public" if principal == "*" else f"account-{principal}")
    return {"sid": sid or f"layersmith-{derived}", "principal": principal, "organizationId": org}


def _found(rule: str, resource: dict[str, Any]) -> list[str]:
    config = {rule: {"enforcementLevel": "mandatory", "allowedAccounts": [PARTNER],
                     "allowedOrganizations": [ORG]}} if rule == "layer-grants-scoped" else {}
    return [v.message for v in evaluate([resource], config, TODAY) if v.rule == rule and not v.skipped]


def test_layer_grants_are_checked_statement_by_statement() -> None:
    good = grants(statement(), statement("*", ORG))
    for rule in ("layer-not-public", "layer-grants-scoped", "layer-versions-retained"):
        assert _found(rule, good) == [], rule
    assert _found("layer-not-public", grants(statement(), statement("*"))) == [
        "statement layersmith-public: principal `*` without `organizationId` makes this layer version readable by "
        "every AWS account; set organizationId or grant named accounts"]
    [scoped] = _found("layer-grants-scoped", grants(statement(), statement("444444444444")))
    assert scoped.startswith("statement layersmith-account-444444444444: principal '444444444444' is not")
    [bad_id] = _found("layer-grants-scoped", grants(statement(sid="share with partner")))
    assert bad_id.startswith("statement share with partner: statementId 'share with partner' is invalid")
    [unretained] = _found("layer-versions-retained", grants(statement(), retain=False))
    assert unretained.startswith("retain is not true")


# --- every warning says what fixes it (issue 15) ----------------------------------------------------

@pytest.mark.parametrize(("rule", "resource", "fix"), [
    ("function-code-signing", function(codeSigningConfigArn=None),
     "set `code_signing_config_arn` in functions/orders/function.toml or per stack in "
     "layersmith:functions.orders.code_signing_config_arn"),
    ("function-env-encrypted", function(kmsKeyArn=""),
     "set `kms_key_arn` in functions/orders/function.toml or per stack in layersmith:functions.orders.kms_key_arn"),
    ("function-observability", function(reservedConcurrentExecutions=None),
     "set `reserved_concurrency` in functions/orders/function.toml or per stack in "
     "layersmith:functions.orders.reserved_concurrency"),
    ("function-observability", function(tracingConfig={"mode": "PassThrough"}),
     "set `tracing = true` in functions/orders/function.toml"),
    ("function-runtime-deprecation-warning", function(runtime="python3.11"),
     "`runtime` in functions/orders/function.toml"),
    ("execution-role-no-wildcards", res(t.ROLE_POLICY, "orders-statements", policy=policy_doc(allow("s3:Get*"))),
     "`actions` of `[[statements]]` in function.toml"),
    ("execution-role-no-wildcards",
     res(t.ROLE_POLICY, "orders-statements", policy=policy_doc(allow("s3:GetObject", "*"))),
     "`resources` of `[[statements]]` in function.toml"),
    ("execution-role-no-wildcards",
     res(t.ROLE_POLICY_ATTACHMENT, "orders-s3", policyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess"),
     "`managed_policies` or `[[statements]]` in function.toml"),
    ("layer-versions-retained", layer(skipDestroy=False), "set layersmith:retainVersions: true"),
])
def test_each_warning_names_the_key_that_fixes_it(rule: str, resource: dict[str, Any], fix: str) -> None:
    found = findings(rule, resource, config={**CONFIG, "function-runtime-deprecation-warning": {
        "deprecationWarningDays": 100_000}})
    assert found and all(fix in v.message for v in found), [v.message for v in found]
