"""Scan accounts × regions for this project's layer versions and everything that attaches them.

A failure to scan one (account, region) never aborts the scan: it is recorded as a `ScanFailure`,
because prune must know exactly where it is blind (a version may be in use there). Only a failure
of the user's own credentials (nothing can be scanned at all) raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from layersmith.aws.clients import Caller, ClientFactory, LambdaApi, error_code
from layersmith.aws.grants import PREFIX as GRANT_PREFIX
from layersmith.aws.records import (
    Attachment,
    AttachmentKind,
    Inventory,
    LayerRef,
    LayerVersionRecord,
    PinRecord,
    ScanFailure,
    Target,
)
from layersmith.errors import AwsError

Progress = Callable[[str], None]
# `arn:aws:lambda:eu-west-1:111111111111:layer:name:3`
_LAYER_VERSION_ARN = re.compile(r"^arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:layer:([A-Za-z0-9_-]+):(\d+)$")
_VARIANT = r"py\d{2,3}-(?:x86_64|arm64)"


class LayerMatcher:
    """Recognises this project's physical layer names (`naming.layer_name`) under the given prefixes.

    Matching by pattern rather than by today's variant list also finds variants a spec no longer
    builds (a dropped runtime) — exactly the leftovers prune is for.
    """

    def __init__(self, prefixes: dict[str, tuple[str, ...]], layers: Sequence[str]) -> None:
        # Longest prefix / layer name first: `app-dev-eu` must win over `app-dev` for `app-dev-eu-utils`.
        self._prefixes = sorted(prefixes.items(), key=lambda kv: -len(kv[0]))
        self._patterns = [(layer, re.compile(re.escape(layer) + rf"(?:-({_VARIANT}))?"))
                          for layer in sorted(layers, key=len, reverse=True)]

    def match(self, name: str) -> LayerRef | None:
        for prefix, stacks in self._prefixes:
            if not name.startswith(prefix + "-"):
                continue
            rest = name[len(prefix) + 1:]
            for layer, pattern in self._patterns:
                m = pattern.fullmatch(rest)
                if m:
                    return LayerRef(stacks, prefix, layer, m.group(1) or "any")
        return None

    def matches_arn(self, arn: str) -> bool:
        m = _LAYER_VERSION_ARN.match(arn)
        return bool(m and self.match(m.group(1)))


def parse_shares(policy: str, *, unmanaged_only: bool = False) -> tuple[str, ...]:
    """Who a layer version's resource policy lets use it: account IDs, `org:o-…`, or `public`.
    `unmanaged_only`: just those granted by statements layersmith does not own (no `layersmith-`
    statement-id prefix: added by hand or by another tool; layersmith never changes them)."""
    shares: list[str] = []
    for statement in json.loads(policy).get("Statement", []):
        if statement.get("Effect", "Allow") != "Allow":
            continue
        if unmanaged_only and str(statement.get("Sid", "")).startswith(GRANT_PREFIX):
            continue
        principal = statement.get("Principal", "")
        principal = principal.get("AWS", "") if isinstance(principal, dict) else principal
        org = (statement.get("Condition", {}).get("StringEquals", {}) or {}).get("aws:PrincipalOrgID")
        if org:
            shares.append(f"org:{org}")
        elif principal == "*":
            shares.append("public")
        else:
            m = re.search(r"(\d{12})", str(principal))
            shares.append(m.group(1) if m else str(principal))
    return tuple(sorted(set(shares)))


def _shares(client: LambdaApi, call: Caller, name: str, version: int,
            target: Target) -> tuple[tuple[str, ...], tuple[str, ...]]:
    def get() -> dict[str, Any]:
        try:
            return client.get_layer_version_policy(LayerName=name, VersionNumber=version)
        except ClientError as exc:  # a version without a policy is simply not shared
            if error_code(exc) == "ResourceNotFoundException":
                return {}
            raise

    policy = call(get, f"{target}: lambda:GetLayerVersionPolicy {name}:{version}")
    if not policy.get("Policy"):
        return (), ()
    return parse_shares(policy["Policy"]), parse_shares(policy["Policy"], unmanaged_only=True)


def _version_record(client: LambdaApi, call: Caller, target: Target, name: str, ref: LayerRef,
                    item: dict[str, Any]) -> LayerVersionRecord:
    version = int(item["Version"])
    # ListLayerVersions does not return the size; GetLayerVersion does (Content.CodeSize).
    full = call(lambda: client.get_layer_version(LayerName=name, VersionNumber=version),
                f"{target}: lambda:GetLayerVersion {name}:{version}")
    shares, unmanaged = _shares(client, call, name, version, target)
    return LayerVersionRecord(
        target=target, name=name, version=version, arn=str(item["LayerVersionArn"]),
        created=str(item.get("CreatedDate", "")), code_size=int(full.get("Content", {}).get("CodeSize", 0)),
        runtimes=tuple(item.get("CompatibleRuntimes", ())),
        architectures=tuple(item.get("CompatibleArchitectures", ())),
        shared_with=shares, shared_unmanaged=unmanaged, ref=ref)


def scan_layers(client: LambdaApi, call: Caller, target: Target,
                matcher: LayerMatcher) -> list[LayerVersionRecord]:
    records: list[LayerVersionRecord] = []
    for layer in call.pages(client.list_layers, "Layers", f"{target}: lambda:ListLayers"):
        name = str(layer["LayerName"])
        ref = matcher.match(name)
        if ref is None:
            continue
        items = call.pages(client.list_layer_versions, "LayerVersions",
                           f"{target}: lambda:ListLayerVersions {name}", LayerName=name)
        records.extend(_version_record(client, call, target, name, ref, item) for item in items)
    return records


def _alias_attachments(target: Target, function: str, alias: dict[str, Any],
                       layers_by_version: dict[str, list[str]]) -> Iterable[Attachment]:
    """An alias attaches what the version(s) it routes to attach (incl. weighted routing)."""
    routed = [str(alias["FunctionVersion"])]
    routed += list((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}))
    for version in routed:
        for arn in layers_by_version.get(version, []):
            yield Attachment(target, function, "alias", str(alias["Name"]), arn, alias_version=version)


def scan_attachments(client: LambdaApi, call: Caller, target: Target, matcher: LayerMatcher, *,
                     aliases: bool = True) -> list[Attachment]:
    """$LATEST and every published version (one `ListFunctions(FunctionVersion=ALL)` listing), and aliases.

    Aliases only route to published versions, so the versions alone decide whether a layer version
    is in use; prune's last-moment re-check therefore skips them (`aliases=False`).
    """
    by_function: dict[str, dict[str, list[str]]] = {}
    found: list[Attachment] = []
    for fn in call.pages(client.list_functions, "Functions", f"{target}: lambda:ListFunctions",
                         FunctionVersion="ALL"):
        name, version = str(fn["FunctionName"]), str(fn.get("Version", "$LATEST"))
        arns = [str(layer["Arn"]) for layer in fn.get("Layers", []) if matcher.matches_arn(str(layer["Arn"]))]
        by_function.setdefault(name, {})[version] = arns
        kind: AttachmentKind = "function" if version == "$LATEST" else "version"
        found.extend(Attachment(target, name, kind, version, arn) for arn in arns)
    if aliases:
        for name, layers_by_version in by_function.items():
            if not any(layers_by_version.values()):
                continue  # nothing of ours attached anywhere in this function: its aliases cannot be either
            for alias in call.pages(client.list_aliases, "Aliases", f"{target}: lambda:ListAliases {name}",
                                    FunctionName=name):
                found.extend(_alias_attachments(target, name, alias, layers_by_version))
    return found


def _scan_account(factory: ClientFactory, call: Caller, account: str, regions: Sequence[str],
                  matcher: LayerMatcher, progress: Progress,
                  out: tuple[list[LayerVersionRecord], list[Attachment], list[ScanFailure]]) -> None:
    versions, attachments, failures = out
    for region in regions:
        target = Target(account, region)
        try:
            client = factory.lambda_client(account, region)
        except AwsError as exc:  # the role cannot be assumed: every region of the account is blind
            failures.append(ScanFailure(account, None, exc.message))
            progress(f"{account}: FAILED: {exc.message}")
            return
        try:
            found = scan_layers(client, call, target, matcher)
            used = scan_attachments(client, call, target, matcher)
        except AwsError as exc:
            message = exc.message.removeprefix(f"{target}: ")
            failures.append(ScanFailure(account, region, message))
            progress(f"{target}: FAILED: {message}")
            continue
        versions.extend(found)
        attachments.extend(used)
        progress(f"{target}: {len(found)} layer versions, {len(used)} attachments")


def scan(factory: ClientFactory, accounts: Sequence[str], regions: Sequence[str], matcher: LayerMatcher, *,
         call: Caller | None = None, pins: Sequence[PinRecord] = (),
         progress: Progress = lambda _: None) -> Inventory:
    """Scan every (account, region). The home account is always scanned, first."""
    call = call or Caller()
    home = factory.home_account()  # no credentials at all: raise, there is nothing to report
    ordered = [home, *(a for a in dict.fromkeys(accounts) if a != home)]
    out: tuple[list[LayerVersionRecord], list[Attachment], list[ScanFailure]] = ([], [], [])
    for number, account in enumerate(ordered, start=1):
        progress(f"scanning account {account} ({number}/{len(ordered)}) in {', '.join(regions)}")
        _scan_account(factory, call, account, regions, matcher, progress, out)
    targets = tuple(Target(a, r) for a in ordered for r in regions)
    versions = sorted(out[0], key=lambda v: (v.name, v.target, -v.version))
    return Inventory(targets, tuple(versions), tuple(out[1]), tuple(out[2]), tuple(pins))


def recheck_attachments(factory: ClientFactory, targets: Sequence[Target], matcher: LayerMatcher,
                        call: Caller) -> list[Attachment]:
    """A fresh look at what attaches our layers, right before a deletion. Any failure raises."""
    found: list[Attachment] = []
    for target in targets:
        client = factory.lambda_client(target.account, target.region)
        found.extend(scan_attachments(client, call, target, matcher, aliases=False))
    return found
