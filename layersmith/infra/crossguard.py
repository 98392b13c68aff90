"""CrossGuard wrappers: each rule of the table as a pulumi_policy policy.

Importing this module starts nothing; `policies/__main__.py` hands `build_policies()` to
`pulumi_policy.PolicyPack`, whose constructor starts the analyzer server and blocks
(docs/architecture.md#policy-rules-never-construct-a-policypack).

CrossGuard hands validators a proxy that raises `UnknownValueError` on the first unknown it meets,
which would abort a whole policy on one unknown layer ARN. The wrappers instead copy the props into
plain values with unknowns as `UNKNOWN`, let the rule decide what it can, report its violations,
and only then raise `UnknownValueError` carrying the rule's notes: CrossGuard shows it as an
advisory "can't run policy … during preview" — a skip with a note, never a silent pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyProviderResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as _proxy

from layersmith.policy.model import UNKNOWN, Context, Resource, Rule, RuleResult
from layersmith.policy.rules import RULES

PACK_NAME = "layersmith"
Today = Callable[[], dt.date]

_SENTINELS = frozenset({
    _proxy.UNKNOWN_BOOLEAN_VALUE, _proxy.UNKNOWN_NUMBER_VALUE, _proxy.UNKNOWN_STRING_VALUE,
    _proxy.UNKNOWN_ARRAY_VALUE, _proxy.UNKNOWN_ASSET_VALUE, _proxy.UNKNOWN_ARCHIVE_VALUE,
    _proxy.UNKNOWN_OBJECT_VALUE,
})


def build_policies(rules: Iterable[Rule] = RULES, today: Today = dt.date.today) -> list[Policy]:
    """One CrossGuard policy per rule, with the rule's name, default level and option schema."""
    return [_policy(rule, today) for rule in rules]


def _policy(rule: Rule, today: Today) -> Policy:
    schema = PolicyConfigSchema({k: dict(v) for k, v in rule.options.items()}) if rule.options else None
    level = EnforcementLevel(rule.level)
    if rule.is_stack:
        return StackValidationPolicy(name=rule.name, description=rule.description,
                                     validate=_stack_validator(rule, today),
                                     enforcement_level=level, config_schema=schema)
    return ResourceValidationPolicy(name=rule.name, description=rule.description,
                                    validate=_resource_validator(rule, today),
                                    enforcement_level=level, config_schema=schema)


def _resource_validator(rule: Rule, today: Today) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types or rule.check is None:
            return
        resource = Resource(args.resource_type, args.name, plain(args.props), urn=args.urn,
                            region=provider_region(args.provider))
        findings = rule.check(resource, context(rule, args.get_config(), today()))
        report(((f, args.urn) for f in findings), report_violation)

    return validate


def _stack_validator(rule: Rule, today: Today) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        if rule.stack_check is None:
            return
        resources = [Resource(r.resource_type, r.name, plain(r.props), urn=r.urn,
                              region=provider_region(r.provider)) for r in args.resources]
        findings = rule.stack_check(resources, context(rule, args.get_config(), today()))
        report(((f, f.resource.urn if f.resource else None) for f in findings), report_violation)

    return validate


def context(rule: Rule, config: Mapping[str, Any] | None, today: dt.date) -> Context:
    """The rule's options: schema defaults, overridden by the pack config (the CLI validated it)."""
    options = rule.defaults()
    options.update({k: plain(v) for k, v in (config or {}).items() if k in rule.options})
    return Context(options, today)


def report(findings: Iterable[tuple[RuleResult, str | None]], report_violation: ReportViolation) -> None:
    """Report violations, then raise the notes as one UnknownValueError (CrossGuard's skip)."""
    notes: list[str] = []
    for finding, urn in findings:
        if finding.skipped:
            notes.append(finding.message)
        else:
            report_violation(finding.message, urn)
    if notes:
        error = _proxy.UnknownValueError(_proxy.UNKNOWN_STRING_VALUE, [])
        error.message = "; ".join(notes)
        raise error


def provider_region(provider: PolicyProviderResource | None) -> str | None:
    if provider is None:
        return None
    region = plain(provider.props).get("region")
    return region if isinstance(region, str) and region != UNKNOWN else None


def plain(value: Any) -> Any:
    """Unwrap CrossGuard's unknown-checking proxies into dicts/lists; unknown sentinels -> UNKNOWN."""
    value = _target(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, str) and value in _SENTINELS:
        return UNKNOWN
    return value


def _target(value: Any) -> Any:
    """The raw container behind a proxy (its `["__target"]` escape hatch); reading it raises nothing."""
    if isinstance(value, _proxy._DictProxy | _proxy._ListProxy):
        return value["__target"]
    return value
