"""Scan accounts × regions for this project's layer versions and everything that attaches them.

A failure to scan one (account, region) never aborts the scan: it is recorded as a `ScanFailure`,
because prune must know exactly where it is blind (a version may be in use there). Only a failure
of the user's own credentials (nothing can be scanned at all) raises.

Scopes — (account, region) pairs — are scanned by a bounded pool of threads (boto3 clients are
thread-safe once made; the calls wait on the network, not the CPU). Inside one scope the calls stay
sequential and paced (`clients.Pacer`), so the pool size never multiplies the rate any one account and
region sees. Results are merged in the order of the scopes: the inventory is the same, whatever the
pool size and whichever scope finished first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from layersmith.aws.clients import Caller, ClientFactory, LambdaApi, error_code
from layersmith.aws.grants import PREFIX as GRANT_PREFIX
from layersmith.aws.progress import ScanProgress
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
from layersmith.aws.version_cache import VersionCache
from layersmith.errors import AwsError, ScanInterrupted

Progress = Callable[[str], None]
# Threads scanning scopes at once. Each waits on the network almost all the time (~90 ms a call at
# 50 ms latency); 32 keep a 100-account fleet busy without a thread per scope.
WORKERS = 32
INTERRUPTED = "interrupted (Ctrl-C) before it was scanned"
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


def _content(client: LambdaApi, call: Caller, target: Target, name: str, version: int, arn: str,
             cache: VersionCache) -> dict[str, Any]:
    """Content.CodeSize and Content.CodeSha256: ListLayerVersions returns neither, GetLayerVersion does.
    A version's content never changes, so an answer is asked once per ARN and then read from disk."""
    cached = cache.get(arn)
    if cached is not None:
        return cached
    full = call(lambda: client.get_layer_version(LayerName=name, VersionNumber=version),
                f"{target}: lambda:GetLayerVersion {name}:{version}")
    cache.put(arn, full)
    content: dict[str, Any] = full.get("Content", {})
    return content


def _version_record(client: LambdaApi, call: Caller, target: Target, name: str, ref: LayerRef,
                    item: dict[str, Any], cache: VersionCache) -> LayerVersionRecord:
    version = int(item["Version"])
    content = _content(client, call, target, name, version, str(item["LayerVersionArn"]), cache)
    shares, unmanaged = _shares(client, call, name, version, target)
    return LayerVersionRecord(
        target=target, name=name, version=version, arn=str(item["LayerVersionArn"]),
        created=str(item.get("CreatedDate", "")), code_size=int(content.get("CodeSize", 0)),
        code_sha256=str(content.get("CodeSha256", "")),
        runtimes=tuple(item.get("CompatibleRuntimes", ())),
        architectures=tuple(item.get("CompatibleArchitectures", ())),
        shared_with=shares, shared_unmanaged=unmanaged, ref=ref)


def scan_layers(client: LambdaApi, call: Caller, target: Target, matcher: LayerMatcher,
                cache: VersionCache | None = None) -> list[LayerVersionRecord]:
    cache = cache or VersionCache(None)
    records: list[LayerVersionRecord] = []
    for layer in call.pages(client.list_layers, "Layers", f"{target}: lambda:ListLayers"):
        name = str(layer["LayerName"])
        ref = matcher.match(name)
        if ref is None:
            continue
        items = call.pages(client.list_layer_versions, "LayerVersions",
                           f"{target}: lambda:ListLayerVersions {name}", LayerName=name)
        records.extend(_version_record(client, call, target, name, ref, item, cache) for item in items)
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


@dataclass
class ScopeResult:
    versions: list[LayerVersionRecord] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    failure: ScanFailure | None = None
    line: str = ""


def _scan_scope(factory: ClientFactory, call: Caller, target: Target, matcher: LayerMatcher,
                cache: VersionCache) -> ScopeResult:
    if call.stop.is_set():
        return ScopeResult(failure=ScanFailure(target.account, target.region, INTERRUPTED),
                           line=f"{target}: {INTERRUPTED}")
    try:
        client = factory.lambda_client(target.account, target.region)
    except AwsError as exc:  # the role cannot be assumed: every region of the account is blind
        return ScopeResult(failure=ScanFailure(target.account, None, exc.message),
                           line=f"{target.account}: FAILED: {exc.message}")
    paced = call.at(target.account, target.region)
    try:
        found = scan_layers(client, paced, target, matcher, cache)
        used = scan_attachments(client, paced, target, matcher)
    except AwsError as exc:
        message = exc.message.removeprefix(f"{target}: ")
        if isinstance(exc, ScanInterrupted):
            message = INTERRUPTED
        return ScopeResult(failure=ScanFailure(target.account, target.region, message),
                           line=f"{target}: FAILED: {message}")
    return ScopeResult(found, used, line=f"{target}: {len(found)} layer versions, {len(used)} attachments")


def _as_progress(progress: Progress | ScanProgress) -> ScanProgress:
    return progress if isinstance(progress, ScanProgress) else ScanProgress(progress)


def run_scopes(factory: ClientFactory, call: Caller, targets: Sequence[Target], matcher: LayerMatcher, *,
               cache: VersionCache, workers: int, progress: ScanProgress) -> list[ScopeResult]:
    """Scan `targets` with at most `workers` at once; results in the order of `targets`.

    Ctrl-C (`call.stop` set by the command's signal handler) lets running calls finish, starts no new
    one, and marks every scope not scanned as interrupted."""
    results: dict[int, ScopeResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="scan") as pool:
        pending: dict[Future[ScopeResult], int] = {
            pool.submit(_scan_scope, factory, call, target, matcher, cache): i for i, target in enumerate(targets)}
        while pending:
            # A timeout, not a bare wait: the main thread must come back to run Python's signal handlers.
            finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                result = results[pending.pop(future)] = future.result()
                progress.done(result.line, failed=result.failure is not None)
    return [results[i] for i in range(len(targets))]


def scan(factory: ClientFactory, accounts: Sequence[str], regions: Sequence[str], matcher: LayerMatcher, *,
         call: Caller | None = None, pins: Sequence[PinRecord] = (),
         progress: Progress | ScanProgress = lambda _: None, workers: int = WORKERS,
         cache: VersionCache | None = None) -> Inventory:
    """Scan every (account, region). The home account is always scanned, and listed first."""
    call = call or Caller()
    shown = _as_progress(progress)
    home = factory.home_account()  # no credentials at all: raise, there is nothing to report
    ordered = _home_first(home, accounts)
    targets = tuple(Target(a, r) for a in ordered for r in regions)
    shown.start(f"scanning {len(ordered)} account(s) × {len(regions)} region(s): {len(targets)} scopes, "
                f"{min(workers, len(targets))} at a time", len(targets), call.stats)
    try:
        results = run_scopes(factory, call, targets, matcher, cache=cache or VersionCache(None),
                             workers=workers, progress=shown)
    finally:
        shown.finish()
    versions = sorted((v for r in results for v in r.versions), key=lambda v: (v.name, v.target, -v.version))
    attachments = tuple(a for r in results for a in r.attachments)
    return Inventory(targets, tuple(versions), attachments, _failures(results), tuple(pins),
                     interrupted=call.stop.is_set())


def _failures(results: Sequence[ScopeResult]) -> tuple[ScanFailure, ...]:
    """Each scope's failure once; an account whose role was refused is one failure, not one per region."""
    failures: list[ScanFailure] = []
    for result in results:
        if result.failure is not None and result.failure not in failures:
            failures.append(result.failure)
    refused = {f.account for f in failures if f.region is None}
    return tuple(f for f in failures if f.region is None or f.account not in refused)


def _home_first(home: str, accounts: Sequence[str]) -> list[str]:
    """Each account once (a duplicate in the list counts once), the home account first."""
    return [home, *(a for a in dict.fromkeys(accounts) if a != home)]


def recheck_scopes(versions: Sequence[LayerVersionRecord], targets: Sequence[Target]) -> list[Target]:
    """The scanned scopes that can attach any of `versions` — all of one region — and nothing else.

    A function can only attach a layer version of its own region (Lambda resolves a layer ARN in the
    function's region), from its own account or from an account the version's resource policy lets it
    read: the accounts named in the policy, or every account for an organization or public grant (here:
    every scanned account of the region). Versions shared with an account that was not scanned are
    never planned for deletion (`prune.keep_reasons`), so the scanned scopes are all that can attach."""
    chosen: set[Target] = set()
    for version in versions:
        region = version.target.region
        in_region = [t for t in targets if t.region == region]
        if any(not share.isdigit() for share in version.shared_with):  # org:o-… or public
            chosen.update(in_region)
            continue
        accounts = {version.target.account, *version.shared_with}
        chosen.update(t for t in in_region if t.account in accounts)
    return [t for t in targets if t in chosen]


def current_shares(factory: ClientFactory, call: Caller, record: LayerVersionRecord) -> tuple[str, ...]:
    """Who the version's policy lets read it now: a grant added since the scan widens the re-check."""
    client = factory.lambda_client(record.target.account, record.target.region)
    shares, _ = _shares(client, call.at(record.target.account, record.target.region), record.name,
                        record.version, record.target)
    return shares


def recheck_attachments(factory: ClientFactory, targets: Sequence[Target], matcher: LayerMatcher,
                        call: Caller, *, workers: int = WORKERS) -> list[Attachment]:
    """A fresh look at what attaches our layers in `targets`, right before deletions. Any failure raises
    (`AwsError`): a scope that cannot be re-checked may hold a new user."""

    def one(target: Target) -> list[Attachment]:
        client = factory.lambda_client(target.account, target.region)
        return scan_attachments(client, call.at(target.account, target.region), target, matcher, aliases=False)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets) or 1)),
                            thread_name_prefix="recheck") as pool:
        return [a for found in pool.map(one, targets) for a in found]
