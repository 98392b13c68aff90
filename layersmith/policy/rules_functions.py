"""Rules 5, 6, 8, 11, 12a: what a function must (or should) look like on its own."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from layersmith.arns import parse_layer_arn
from layersmith.policy.inputs import blank
from layersmith.policy.model import Context, Resource, RuleResult, fail, is_unknown, skip
from layersmith.policy.rules_layers import unknown_note, whole_unknown
from layersmith.runtimes.supported import RUNTIMES

MAX_LAYERS = 5  # Lambda quota: 5 layers per function


def fix(resource: Resource, key: str, *, per_stack: bool = True) -> str:
    """Where a layersmith user fixes it: the function.toml key, and the stack key when environments
    may differ. The resource's logical name is the function's directory name (infra/function.py)."""
    where = f"set `{key}` in functions/{resource.name}/function.toml"
    return where + (f" or per stack in layersmith:functions.{resource.name}.{key}" if per_stack else "")

# Values that look like credentials whatever the variable is called. Options may replace the list.
SECRET_VALUE_PATTERNS: tuple[str, ...] = (
    r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"\bgh[pousr]_[A-Za-z0-9]{36,}",  # GitHub token
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack token
    r"\b[sr]k_live_[A-Za-z0-9]{16,}",  # Stripe live key
    r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.",  # JWT
    r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",  # URL with user:password@
)
# Names that promise a secret; `*_ARN`, `*_NAME`, `*_PARAMETER` (references to one) do not match.
SECRET_NAME_PATTERNS: tuple[str, ...] = (
    r"(?i)(PASSWORD|PASSWD|SECRET|SECRET_?KEY|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)$",
)


def _runtime(resource: Resource) -> Iterator[RuleResult | str]:
    """The function's runtime name, or a skip note; nothing for image functions (no runtime)."""
    if note := unknown_note(resource, "runtime"):
        yield note
        return
    name = resource.get("runtime")
    if not blank(name):
        yield str(name)


def check_runtime_not_deprecated(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 5 (mandatory part): Lambda stops patching a deprecated runtime, then blocks updates."""
    for item in _runtime(resource):
        if isinstance(item, RuleResult):
            yield item
            continue
        runtime = RUNTIMES.get(item)
        if runtime is None:
            yield skip(f"runtime {item!r} is not in layersmith's runtime table; its deprecation date "
                       "is not known, so it was not checked")
        elif runtime.is_deprecated(ctx.today):
            yield fail(f"runtime {item} was deprecated on {runtime.deprecated}: move to "
                       f"{max(RUNTIMES.values(), key=lambda r: r.version).name} (`runtime` in "
                       f"functions/{resource.name}/function.toml)")


def check_runtime_deprecation_soon(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 5 (advisory part): warn `deprecationWarningDays` ahead, while upgrading is still calm."""
    window = ctx.integer("deprecationWarningDays")
    for item in _runtime(resource):
        runtime = RUNTIMES.get(item) if isinstance(item, str) else None
        if runtime is None or runtime.is_deprecated(ctx.today):
            continue  # unknown, not in the table or already deprecated: the mandatory rule says so
        days = (runtime.deprecated - ctx.today).days
        if days <= window:
            yield fail(f"runtime {runtime.name} is deprecated in {days} days ({runtime.deprecated}); "
                       f"plan the upgrade (`runtime` in functions/{resource.name}/function.toml)")


def check_layers_valid(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 6: versioned ARNs, at most 5, in the function's region, owned by allowed accounts."""
    if note := whole_unknown(resource, "layers"):
        yield note
        return
    layers = resource.get("layers") or []
    if len(layers) > MAX_LAYERS:
        yield fail(f"{len(layers)} layers attached; Lambda allows at most {MAX_LAYERS}")
    region = resource.effective_region
    if layers and region is None:
        yield skip("the function's region is not known, so its layers' regions were not compared")
    for index, arn in enumerate(layers):
        if is_unknown(arn):
            yield skip(f"`layers[{index}]` is not known until deployment, so it was not checked")
        else:
            yield from _layer_arn_ok(str(arn), region, ctx.strings("allowedAccounts"))


def _layer_arn_ok(arn: str, region: str | None, allowed: tuple[str, ...]) -> Iterator[RuleResult]:
    parsed = parse_layer_arn(arn)
    if parsed is None:
        yield fail(f"{arn!r} is not a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<n>)")
        return
    if parsed.version is None:
        yield fail(f"{arn} has no version: Lambda needs a versioned ARN, pin one (layer.arn, not layerArn)")
    if region is not None and parsed.region != region:
        yield fail(f"{arn} is in {parsed.region} but the function is in {region}: Lambda rejects it")
    if parsed.account not in allowed:
        yield fail(f"{arn} is owned by account {parsed.account}, not in allowedAccounts {list(allowed)}")


def check_code_signing(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 8: without a code signing config Lambda runs any zip that the deploy role uploads."""
    if note := unknown_note(resource, "codeSigningConfigArn"):
        yield note
    elif blank(resource.get("codeSigningConfigArn")):
        yield fail("no codeSigningConfigArn: Lambda accepts unsigned code for this function; "
                   + fix(resource, "code_signing_config_arn"))


def _variables(resource: Resource) -> Iterator[RuleResult | Mapping[str, Any]]:
    if note := whole_unknown(resource, "environment"):
        yield note
        return
    environment = resource.get("environment") or {}
    variables = environment.get("variables") if isinstance(environment, Mapping) else None
    if is_unknown(variables):
        yield skip("`environment.variables` is not known until deployment, so it was not checked")
    elif isinstance(variables, Mapping) and variables:
        yield variables


def check_no_secrets(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 11 (mandatory part): env vars are plain text to anyone with GetFunctionConfiguration."""
    values = [re.compile(p) for p in ctx.strings("secretPatterns")]
    names = [re.compile(p) for p in ctx.strings("secretNamePatterns")]
    for item in _variables(resource):
        if isinstance(item, RuleResult):
            yield item
            continue
        for key, value in item.items():
            yield from _secret_variable(str(key), value, values, names)


def _secret_variable(key: str, value: object, values: list[re.Pattern[str]],
                     names: list[re.Pattern[str]]) -> Iterator[RuleResult]:
    if is_unknown(value):
        yield skip(f"`environment.variables.{key}` is not known until deployment, so it was not checked")
        return
    text = "" if value is None else str(value)
    if any(p.search(text) for p in values):
        # Never echo the value: the violation message lands in CI logs.
        yield fail(f"environment variable {key} holds what looks like a credential; store it in "
                   "Secrets Manager or SSM and pass its name/ARN instead ([environment] in function.toml)")
    elif any(p.search(key) for p in names) and not _is_reference(text):
        yield fail(f"environment variable {key} is named like a secret and holds a literal value; "
                   f"pass a Secrets Manager/SSM reference (e.g. {key}_ARN) instead ([environment] in "
                   "function.toml)")


def _is_reference(text: str) -> bool:
    """Empty, an ARN, an SSM path or a number/boolean: not a secret in itself."""
    lowered = text.strip().lower()
    return (not lowered or lowered.startswith(("arn:", "/", "{{resolve:"))
            or lowered in ("true", "false") or lowered.isdigit())


def check_environment_encrypted(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 11 (advisory part): without a customer key, anyone who can read the function reads them."""
    for item in _variables(resource):
        if isinstance(item, RuleResult):
            yield item
        elif note := unknown_note(resource, "kmsKeyArn"):
            yield note
        elif blank(resource.get("kmsKeyArn")):
            yield fail("environment variables are set but no kmsKeyArn encrypts them with a customer key; "
                       + fix(resource, "kms_key_arn"))


def check_observability(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 12 (per function): active tracing and reserved concurrency."""
    tracing = resource.get("tracingConfig")
    if note := unknown_note(resource, "tracingConfig"):
        yield note
    elif not isinstance(tracing, Mapping) or tracing.get("mode") != "Active":
        yield fail("tracingConfig.mode is not Active: slow or failing calls through layers stay invisible; "
                   f"set `tracing = true` in functions/{resource.name}/function.toml")
    reserved = resource.get("reservedConcurrentExecutions")
    if note := unknown_note(resource, "reservedConcurrentExecutions"):
        yield note
    elif blank(reserved) or float(reserved) < 0:
        yield fail("no reservedConcurrentExecutions: one busy function can take the account's whole "
                   "concurrency and throttle every other function; " + fix(resource, "reserved_concurrency"))
