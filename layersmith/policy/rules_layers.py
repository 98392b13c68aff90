"""Rules 1–4: who can read a shared layer, and what a published layer version must carry."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from layersmith.policy.inputs import blank, find_unknown, principal_account
from layersmith.policy.model import Context, Resource, RuleResult, fail, is_unknown, skip
from layersmith.policy.resource_types import LAYER_GRANTS, LAYER_PERMISSION
from layersmith.runtimes.supported import ARCHITECTURES, RUNTIMES

GET_LAYER_VERSION = "lambda:GetLayerVersion"
# AddLayerVersionPermission: StatementId matches ([a-zA-Z0-9-_]+), 1–100 characters.
_STATEMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# PublishLayerVersion: Description ≤ 256, LicenseInfo ≤ 512, CompatibleRuntimes ≤ 15 entries.
_MAX_DESCRIPTION = 256
_MAX_LICENSE = 512
_MAX_RUNTIMES = 15


def unknown_note(resource: Resource, key: str) -> RuleResult | None:
    """A skip note when `key` (or anything inside it) is not known yet, else None."""
    path = find_unknown(resource.get(key), key)
    if path is None:
        return None
    return skip(f"`{path}` is not known until deployment, so this was not checked")


def whole_unknown(resource: Resource, key: str) -> RuleResult | None:
    """A skip note when the value of `key` itself is unknown (not merely something inside it)."""
    if not is_unknown(resource.get(key)):
        return None
    return skip(f"`{key}` is not known until deployment, so this was not checked")


Check = Callable[[Resource, Context], Iterator[RuleResult]]


def grant_statements(resource: Resource) -> list[Resource]:
    """A `LayerGrants` as the per-statement grants it owns, shaped like `LayerVersionPermission`s
    (statementId, principal, organizationId, action, skipDestroy), so one check serves both."""
    items = resource.get("statements")
    if not isinstance(items, list):
        return []
    return [Resource(LAYER_PERMISSION, resource.name,
                     {"statementId": item.get("sid"), "principal": item.get("principal"),
                      "organizationId": item.get("organizationId"), "action": resource.get("action"),
                      "skipDestroy": resource.get("retain")}, resource.urn, resource.region)
            for item in items if isinstance(item, dict)]


def per_statement(check: Check) -> Check:
    """Run a per-grant check on each statement of a `LayerGrants` (a plain permission as it is)."""

    def run(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
        if resource.type != LAYER_GRANTS:
            yield from check(resource, ctx)
            return
        for statement in grant_statements(resource):
            for finding in check(statement, ctx):
                yield replace(finding, message=f"statement {statement.get('statementId')}: {finding.message}")

    run.__doc__ = check.__doc__
    return run


def check_not_public(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 1: principal `*` is every AWS account in the world unless an organization scopes it."""
    for key in ("principal", "organizationId"):
        note = unknown_note(resource, key)
        if note:
            yield note
            return
    if resource.get("principal") == "*" and blank(resource.get("organizationId")):
        yield fail("principal `*` without `organizationId` makes this layer version readable by every "
                   "AWS account; set organizationId or grant named accounts")


def check_grants_scoped(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 2: only GetLayerVersion, only to allow-listed accounts/organizations, valid statement id."""
    action, statement = resource.get("action"), resource.get("statementId")
    if note := unknown_note(resource, "action"):
        yield note
    elif action != GET_LAYER_VERSION:
        yield fail(f"action {action!r} grants more than reading the layer; use {GET_LAYER_VERSION!r}")
    if note := unknown_note(resource, "statementId"):
        yield note
    elif not isinstance(statement, str) or not _STATEMENT_ID.match(statement):
        yield fail(f"statementId {statement!r} is invalid: use 1–100 of A-Z a-z 0-9 - _ "
                   "(derive it from the principal so two grants never collide)")
    yield from _principal_allowed(resource, ctx)


def _principal_allowed(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    for key in ("principal", "organizationId"):
        if note := unknown_note(resource, key):
            yield note
            return
    principal, org = resource.get("principal"), resource.get("organizationId")
    if principal == "*":
        allowed = ctx.strings("allowedOrganizations")
        if blank(org) or org not in allowed:
            yield fail(f"organization {org!r} is not in allowedOrganizations {list(allowed)}")
        return
    account = principal_account(str(principal))
    allowed = ctx.strings("allowedAccounts")
    if account is None or account not in allowed:
        yield fail(f"principal {principal!r} is not an account in allowedAccounts {list(allowed)}")


def check_retained(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 3: without skipDestroy a replacement deletes the old version and breaks pinned functions."""
    if resource.type == LAYER_GRANTS:
        if resource.get("retain") is not True:
            yield fail("retain is not true (layersmith:retainVersions): the next publish revokes these grants, "
                       "cutting off every account still pinned to this version")
        return
    if note := unknown_note(resource, "skipDestroy"):
        yield note
    elif resource.get("skipDestroy") is not True:
        what = "layer version" if "layerVersion:" in resource.type else "grant"
        yield fail(f"skipDestroy is not true: the next publish deletes this {what}, breaking every "
                   "function or account still pinned to it; set layersmith:retainVersions: true (the default)")


def check_metadata(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    """Rule 4: runtimes/architectures set and supported; license and description set."""
    yield from _runtimes_supported(resource, ctx)
    yield from _architectures_supported(resource)
    # Each comes from layer.toml (infra/layer.py): the fix is named there, where the user edits it.
    for key, limit, spec_key in (("licenseInfo", _MAX_LICENSE, "license"),
                                 ("description", _MAX_DESCRIPTION, "description")):
        value = resource.get(key)
        if note := unknown_note(resource, key):
            yield note
        elif blank(value) or not str(value).strip():
            yield fail(f"{key} is not set: consumers cannot tell what this layer is or may be used for; set "
                       f"`{spec_key}` in the layer's layer.toml (e.g. {spec_key} = "
                       + ('"MIT")' if spec_key == "license" else '"what it holds")'))
        elif len(str(value)) > limit:
            yield fail(f"{key} is {len(str(value))} characters; Lambda accepts at most {limit}")


def _runtimes_supported(resource: Resource, ctx: Context) -> Iterator[RuleResult]:
    runtimes = resource.get("compatibleRuntimes")
    if note := unknown_note(resource, "compatibleRuntimes"):
        yield note
        return
    if blank(runtimes):
        yield fail("compatibleRuntimes is not set: nothing stops a function on another runtime from "
                   "attaching it and failing at import")
        return
    if len(runtimes) > _MAX_RUNTIMES:
        yield fail(f"compatibleRuntimes lists {len(runtimes)} runtimes; Lambda accepts at most {_MAX_RUNTIMES}")
    for name in runtimes:
        runtime = RUNTIMES.get(name)
        if runtime is None:
            yield fail(f"compatible runtime {name!r} is not supported; use one of {', '.join(RUNTIMES)}")
        elif runtime.is_deprecated(ctx.today):
            yield fail(f"compatible runtime {name!r} was deprecated on {runtime.deprecated}; drop it")


def _architectures_supported(resource: Resource) -> Iterator[RuleResult]:
    architectures = resource.get("compatibleArchitectures")
    if note := unknown_note(resource, "compatibleArchitectures"):
        yield note
    elif blank(architectures):
        yield fail("compatibleArchitectures is not set: an x86_64 wheel attached to an arm64 function "
                   "deploys fine and fails at import")
    else:
        for name in architectures:
            if name not in ARCHITECTURES:
                yield fail(f"compatible architecture {name!r} is not one of {', '.join(ARCHITECTURES)}")
