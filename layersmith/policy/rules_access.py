"""Rules 9 and 10: who may invoke a function, and what its execution role may do."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from layersmith.policy import resource_types
from layersmith.policy.inputs import blank, listify, policy_statements, service_principals
from layersmith.policy.model import Context, Resource, RuleResult, fail
from layersmith.policy.rules_layers import unknown_note

LAMBDA_SERVICE = "lambda.amazonaws.com"
# AWS managed policies that are admin or can make themselves admin (IAMFullAccess edits its own role).
ADMIN_POLICIES = frozenset(
    f"arn:aws:iam::aws:policy/{name}" for name in ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
)
# Actions IAM only grants on `*` (no resource-level permissions): a `*` resource for them is no smell.
STAR_ONLY_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData",
                               "xray:GetSamplingRules", "xray:GetSamplingTargets"})


def check_invoke_scoped(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 9: no `*` principal, service principals carry a source ARN, no unauthenticated URL."""
    if resource.type == resource_types.FUNCTION_URL:
        yield from _auth_type(resource, "authorizationType")
        return
    yield from _auth_type(resource, "functionUrlAuthType")
    if note := unknown_note(resource, "principal"):
        yield note
        return
    principal = str(resource.get("principal"))
    if principal == "*":
        yield fail("principal `*` lets any AWS account (or anyone, through a URL) invoke the function")
    elif principal.endswith(".amazonaws.com"):
        if note := unknown_note(resource, "sourceArn"):
            yield note
        elif blank(resource.get("sourceArn")):
            yield fail(f"service principal {principal} without sourceArn: any {principal} resource in "
                       "any account can invoke the function (confused deputy)")


def _auth_type(resource: Resource, key: str) -> Iterator[RuleResult]:
    if note := unknown_note(resource, key):
        yield note
    elif resource.get(key) == "NONE":
        yield fail(f"{key} NONE publishes an unauthenticated function URL; use AWS_IAM")


def check_least_privilege(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 10 (mandatory part): trust only Lambda; no admin policies or `*`/`*:*` actions."""
    if resource.type == resource_types.ROLE:
        yield from _trust(resource)
        yield from _admin_arns(resource, "managedPolicyArns")
        yield from _inline(resource, _admin_statements)
    elif resource.type == resource_types.ROLE_POLICY:
        yield from _document(resource, "policy", _admin_statements)
    else:
        yield from _admin_arns(resource, "policyArn")


def check_no_wildcards(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 10 (advisory part): wildcard actions/resources and *FullAccess policies."""
    if resource.type == resource_types.ROLE:
        yield from _inline(resource, _wildcard_statements)
        yield from _full_access(resource, "managedPolicyArns")
    elif resource.type == resource_types.ROLE_POLICY:
        yield from _document(resource, "policy", _wildcard_statements)
    else:
        yield from _full_access(resource, "policyArn")


def _trust(resource: Resource) -> Iterator[RuleResult]:
    if note := unknown_note(resource, "assumeRolePolicy"):
        yield note
        return
    statements = policy_statements(resource.get("assumeRolePolicy"))
    if statements is None:
        yield fail("assumeRolePolicy is not a JSON policy document")
        return
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        services, others = service_principals(statement)
        strangers = others + [s for s in services if s != LAMBDA_SERVICE]
        if strangers:
            yield fail(f"the execution role also trusts {', '.join(strangers)}; trust only {LAMBDA_SERVICE}")


def _admin_arns(resource: Resource, key: str) -> Iterator[RuleResult]:
    if note := unknown_note(resource, key):
        yield note
        return
    for arn in listify(resource.get(key)):
        if arn in ADMIN_POLICIES:
            yield fail(f"{arn} makes the function an administrator of the account; drop it from "
                       "`managed_policies` in function.toml")


def _full_access(resource: Resource, key: str) -> Iterator[RuleResult]:
    if unknown_note(resource, key):
        return  # the mandatory rule already notes it
    for arn in listify(resource.get(key)):
        if isinstance(arn, str) and arn.endswith("FullAccess") and arn not in ADMIN_POLICIES:
            yield fail(f"{arn} grants every action of a service; attach a policy scoped to what the "
                       "function calls (`managed_policies` or `[[statements]]` in function.toml)")


StatementCheck = Callable[[list[Mapping[str, Any]], str], Iterator[RuleResult]]


def _inline(resource: Resource, check: StatementCheck) -> Iterator[RuleResult]:
    if note := unknown_note(resource, "inlinePolicies"):
        yield note
        return
    for index, inline in enumerate(listify(resource.get("inlinePolicies"))):
        if isinstance(inline, Mapping) and not blank(inline.get("policy")):
            yield from _statements(inline.get("policy"), f"inlinePolicies[{index}]", check)


def _document(resource: Resource, key: str, check: StatementCheck) -> Iterator[RuleResult]:
    if note := unknown_note(resource, key):
        yield note
    else:
        yield from _statements(resource.get(key), key, check)


def _statements(document: object, where: str, check: StatementCheck) -> Iterator[RuleResult]:
    statements = policy_statements(document)
    if statements is None:
        yield fail(f"{where} is not a JSON policy document")
        return
    allowed = [s for s in statements if s.get("Effect") == "Allow"]
    yield from check(allowed, where)


def _admin_statements(statements: list[Mapping[str, Any]], where: str) -> Iterator[RuleResult]:
    for statement in statements:
        actions = {str(a) for a in listify(statement.get("Action"))}
        if actions & {"*", "*:*"}:
            yield fail(f"{where} allows every action (`*`): the function could do anything in the account; list "
                       "the actions in `[[statements]]` of function.toml")
        elif "NotAction" in statement:
            yield fail(f"{where} allows NotAction: everything except a list is admin in all but name")


def _wildcard_statements(statements: list[Mapping[str, Any]], where: str) -> Iterator[RuleResult]:
    for statement in statements:
        actions = [str(a) for a in listify(statement.get("Action"))]
        broad = [a for a in actions if "*" in a and a not in ("*", "*:*")]
        if broad:
            yield fail(f"{where} allows wildcard actions {broad}; list the actions the function calls "
                       "(`actions` of `[[statements]]` in function.toml)")
        if "*" in listify(statement.get("Resource")) and not set(actions) <= STAR_ONLY_ACTIONS:
            yield fail(f"{where} allows {actions} on every resource (`*`); name the resources (`resources` of "
                       "`[[statements]]` in function.toml, without allow_wildcard)")
