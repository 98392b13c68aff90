"""Plan (pure) and execute (behind the factory seam) the deletion of unused layer versions.

A version is deleted only when its verdict (`aws/verdict.py`, the one `inventory` marks from) says
so: not among the newest N of its layer, not attached by any function, function version or alias
in any scanned account, not pinned in its region by any committed stack, and not shared with an
account that was not scanned. Anything the scan could not see blocks deletion altogether: a version
may be in use there.

Deleting a layer version does not break functions that already attach it (Lambda keeps a copy);
it breaks the next create/update that references it — e.g. a `pulumi up` of a pinned stack. That
is why pins and the re-check right before each deletion matter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from layersmith.aws.clients import Caller, ClientFactory
from layersmith.aws.inventory import LayerMatcher, recheck_attachments
from layersmith.aws.records import Inventory, LayerVersionRecord, ScanFailure, Target
from layersmith.aws.verdict import Verdict, verdicts
from layersmith.errors import AwsError, UserError

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


def _delete(factory: ClientFactory, call: Caller, record: LayerVersionRecord) -> None:
    client = factory.lambda_client(record.target.account, record.target.region)
    call(lambda: client.delete_layer_version(LayerName=record.name, VersionNumber=record.version),
         f"{record.target}: lambda:DeleteLayerVersion {record.name}:{record.version}")


def execute(plan: PruneSelection, factory: ClientFactory, targets: Sequence[Target],
            matcher: LayerMatcher, *, call: Caller | None = None,
            progress: Progress = lambda _: None) -> PruneResult:
    """Delete the planned versions, re-checking every scanned target right before each deletion."""
    if plan.blocked_by:
        raise AwsError(plan.blocked_message())
    call = call or Caller()
    deleted: list[LayerVersionRecord] = []
    skipped: list[tuple[LayerVersionRecord, str]] = []
    for decision in plan.deletions:
        record = decision.version
        try:
            users = [a for a in recheck_attachments(factory, targets, matcher, call)
                     if a.layer_version_arn == record.arn]
            if users:
                why = "now attached to " + ", ".join(f"{a.target} {a.describe()}" for a in users)
                skipped.append((record, why))
                progress(f"kept {record.name}:{record.version}: {why}")
                continue
            _delete(factory, call, record)
        except AwsError as exc:
            done = f"deleted {len(deleted)} of {len(plan.deletions)} before this; " if deleted else ""
            raise AwsError(f"stopped, nothing more deleted: {done}{exc.message}") from exc
        deleted.append(record)
        progress(f"deleted {record.name}:{record.version} in {record.target}")
    return PruneResult(tuple(deleted), tuple(skipped))
