"""Plan (pure) and execute (behind the factory seam) the deletion of unused layer versions.

A version is deleted only when its verdict (`aws/verdict.py`, the one `inventory` marks from) says
so: not among the newest N of its layer, not attached by any function, function version or alias
in any scanned account, not pinned in its region by any committed stack, and not shared with an
account that was not scanned. Anything the scan could not see blocks deletion altogether: a version
may be in use there.

Deleting a layer version does not break functions that already attach it (Lambda keeps a copy);
it breaks the next create/update that references it — e.g. a `pulumi up` of a pinned stack. That
is why pins and the re-check right before the deletions matter.

The re-check is per region, once, right before that region's deletions, and covers only the scopes
that can attach those versions (`inventory.recheck_scopes`): a function attaches layer versions of
its own region only, from its own account or one the version is shared with.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from layersmith.aws.clients import Caller, ClientFactory
from layersmith.aws.inventory import WORKERS, LayerMatcher, current_shares, recheck_attachments, recheck_scopes
from layersmith.aws.records import Inventory, LayerVersionRecord, ScanFailure, Target
from layersmith.aws.verdict import Verdict, verdicts
from layersmith.errors import AwsError, ScanInterrupted, UserError

Progress = Callable[[str], None]
MAX_NAMED_USERS = 3


@dataclass(frozen=True)
class Decision:
    version: LayerVersionRecord
    delete: bool
    reasons: tuple[str, ...]  # why it is kept; for a deletion, why it may go


@dataclass(frozen=True)
class PruneSelection:
    keep_newest: int
    decisions: tuple[Decision, ...]
    blocked_by: tuple[ScanFailure, ...]

    @property
    def deletions(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.delete)

    @property
    def kept(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.delete)

    def blocked_message(self) -> str:
        """Which places were not scanned (the why is one line each, printed before this)."""
        where = ", ".join(f.where() for f in self.blocked_by)
        return (f"refusing to delete: could not scan {where}, and a version may be in use there; fix access "
                "or leave it out of --accounts/--regions and re-run")


def _users(verdict: Verdict) -> list[str]:
    record = verdict.record
    users = [a.describe() if a.target == record.target else f"{a.target} {a.describe()}" for a in verdict.users]
    if len(users) > MAX_NAMED_USERS:
        users = [*users[:MAX_NAMED_USERS], f"{len(users) - MAX_NAMED_USERS} more"]
    return users


def keep_reasons(verdict: Verdict, keep: int) -> list[str]:
    """Every reason to keep the version (empty: it may be deleted), read from its one verdict."""
    reasons: list[str] = []
    if verdict.rank < keep:
        reasons.append("latest" if verdict.latest else f"among the newest {keep}")
    if verdict.users:
        reasons.append("attached to " + ", ".join(_users(verdict)))
    if verdict.pins:
        reasons.append("pinned by " + ", ".join(sorted({p.describe() for p in verdict.pins})))
    if verdict.unscanned_shares:
        reasons.append(f"shared with {', '.join(verdict.unscanned_shares)}, not scanned (add to --accounts)")
    if verdict.blind:
        where = ", ".join(f.where() for f in verdict.blind)
        reasons.append(f"may be attached in {where}, which could not be scanned")
    return reasons


def select_prunable(inventory: Inventory, keep: int) -> PruneSelection:
    if keep < 1:
        # The newest version is what `latest` pins and the Pulumi state point at: never delete it.
        raise UserError("must be at least 1 (the newest version of each layer is always kept)", key="--keep")
    judged = verdicts(inventory)
    decisions: list[Decision] = []
    for record in sorted(inventory.versions, key=lambda r: (r.name, r.target, -r.version)):
        verdict = judged[record.arn]
        delete = verdict.deletable(keep)
        reasons = ([f"older than the newest {keep}, attached to nothing scanned, not pinned"] if delete
                   else keep_reasons(verdict, keep))
        decisions.append(Decision(record, delete, tuple(reasons)))
    return PruneSelection(keep, tuple(decisions), inventory.failures)


@dataclass(frozen=True)
class PruneResult:
    deleted: tuple[LayerVersionRecord, ...]
    skipped: tuple[tuple[LayerVersionRecord, str], ...]  # now in use: the re-check saved it
    interrupted: bool = False  # Ctrl-C: the deletions not yet started were not made


def _delete(factory: ClientFactory, call: Caller, record: LayerVersionRecord) -> None:
    client = factory.lambda_client(record.target.account, record.target.region)
    call.at(record.target.account, record.target.region)(
        lambda: client.delete_layer_version(LayerName=record.name, VersionNumber=record.version),
        f"{record.target}: lambda:DeleteLayerVersion {record.name}:{record.version}")


@dataclass
class _RegionRun:
    deleted: list[LayerVersionRecord]
    skipped: list[tuple[LayerVersionRecord, str]]
    error: AwsError | None = None


def _region(factory: ClientFactory, call: Caller, records: list[LayerVersionRecord], targets: Sequence[Target],
            matcher: LayerMatcher, progress: Progress, workers: int, halt: threading.Event) -> _RegionRun:
    """One region: fresh grants, one re-check of the scopes that can attach, then the deletions. Any
    failure (here or in another region: `halt`) stops it before its next deletion."""
    run = _RegionRun([], [])
    try:
        _region_steps(factory, call, records, targets, matcher, progress, workers, halt, run)
    except AwsError as exc:
        run.error = exc
        halt.set()
    return run


def _region_steps(factory: ClientFactory, call: Caller, records: list[LayerVersionRecord], targets: Sequence[Target],
                  matcher: LayerMatcher, progress: Progress, workers: int, halt: threading.Event,
                  run: _RegionRun) -> None:
    candidates = _still_unshared(factory, call, records, targets, progress, run)
    scopes = recheck_scopes(candidates, targets)
    progress(f"{records[0].target.region}: re-checking {len(scopes)} scope(s) before deleting "
             f"{len(candidates)} version(s)")
    attached: dict[str, list[str]] = defaultdict(list)
    for a in recheck_attachments(factory, scopes, matcher, call, workers=workers):
        attached[a.layer_version_arn].append(f"{a.target} {a.describe()}")
    for record in candidates:
        if record.arn in attached:
            _keep(run, record, "now attached to " + ", ".join(attached[record.arn]), progress)
            continue
        if halt.is_set():
            return
        _delete(factory, call, record)
        run.deleted.append(record)
        progress(f"deleted {record.name}:{record.version} in {record.target}")


def _still_unshared(factory: ClientFactory, call: Caller, records: list[LayerVersionRecord],
                    targets: Sequence[Target], progress: Progress, run: _RegionRun) -> list[LayerVersionRecord]:
    """The records with their grants as they are now, not as they were at the scan; one now shared
    with an account that was not scanned is kept (it may be attached there)."""
    scanned = {t.account for t in targets}
    candidates = []
    for record in records:
        fresh = replace(record, shared_with=current_shares(factory, call, record))
        blind = [s for s in fresh.shared_with if s.isdigit() and s not in scanned]
        if blind:
            _keep(run, record, f"now shared with {', '.join(blind)}, not scanned", progress)
        else:
            candidates.append(fresh)
    return candidates


def _keep(run: _RegionRun, record: LayerVersionRecord, why: str, progress: Progress) -> None:
    run.skipped.append((record, why))
    progress(f"kept {record.name}:{record.version}: {why}")


def execute(plan: PruneSelection, factory: ClientFactory, targets: Sequence[Target],
            matcher: LayerMatcher, *, call: Caller | None = None,
            progress: Progress = lambda _: None, workers: int = WORKERS) -> PruneResult:
    """Delete the planned versions, the regions side by side (each has its own quotas): in each, re-check
    once the scopes that can attach them, then delete those still unattached. A failure anywhere, or
    Ctrl-C (`call.stop`), stops every region before its next deletion."""
    if plan.blocked_by:
        raise AwsError(plan.blocked_message())
    runs = _run_regions(_by_region(plan), factory, call or Caller(), targets, matcher, progress, workers)
    return _result(plan, runs)


def _result(plan: PruneSelection, runs: list[_RegionRun]) -> PruneResult:
    """What the regions did together; the first real failure (not Ctrl-C) raised, saying how far it got."""
    deleted = tuple(r for run in runs for r in run.deleted)
    skipped = tuple(s for run in runs for s in run.skipped)
    errors = _errors(runs)
    failure = next((e for e in errors if not isinstance(e, ScanInterrupted)), None)
    if failure is not None:
        done = f"deleted {len(deleted)} of {len(plan.deletions)} before this; " if deleted else ""
        raise AwsError(f"stopped, nothing more deleted: {done}{failure.message}") from failure
    return PruneResult(deleted, skipped, interrupted=bool(errors))


def _errors(runs: list[_RegionRun]) -> list[AwsError]:
    return [run.error for run in runs if run.error is not None]


def _by_region(plan: PruneSelection) -> dict[str, list[LayerVersionRecord]]:
    by_region: dict[str, list[LayerVersionRecord]] = defaultdict(list)
    for decision in plan.deletions:
        by_region[decision.version.target.region].append(decision.version)
    return by_region


def _run_regions(by_region: dict[str, list[LayerVersionRecord]], factory: ClientFactory, call: Caller,
                 targets: Sequence[Target], matcher: LayerMatcher, progress: Progress,
                 workers: int) -> list[_RegionRun]:
    halt = threading.Event()
    regions = sorted(by_region)
    # `workers` bounds the re-check listings of all regions together, as it bounds the scan: each region
    # gets its share (measured: 8 regions × 32 listings at once outran what the endpoint would queue).
    share = max(1, workers // len(regions)) if regions else 1
    with ThreadPoolExecutor(max_workers=max(1, min(len(regions), workers)), thread_name_prefix="prune") as pool:
        futures = [pool.submit(_region, factory, call, by_region[r], targets, matcher, progress, share, halt)
                   for r in regions]
        while wait(futures, timeout=0.2).not_done:
            pass  # the main thread wakes up to run Python's signal handler (Ctrl-C sets `call.stop`)
        return [f.result() for f in futures]
