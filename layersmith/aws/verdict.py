"""One verdict per layer version: `inventory`'s marks and `prune`'s plan are both read from it, so
the two can never disagree about a version (pinned, in use, latest, or blind spot).

A version is protected when it is among the newest N of its physical layer, attached by a function,
function version or alias found by the scan, pinned in its region by a committed stack, shared with
an account that was not scanned, or possibly attached from an (account, region) that failed to scan.
Lambda attaches only layer versions of the function's own region, so a failed scan blinds the
versions of its region (every region when the whole account failed: its role could not be assumed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from layersmith.aws.records import Attachment, Inventory, LayerVersionRecord, PinRecord, ScanFailure, Target

Status = Literal["in use", "pinned", "latest", "unknown", "unused"]


@dataclass(frozen=True)
class Verdict:
    record: LayerVersionRecord
    rank: int  # 0: the newest version of its physical layer (account, region, name)
    users: tuple[Attachment, ...]
    pins: tuple[PinRecord, ...]  # the committed pins that name this very version
    unscanned_shares: tuple[str, ...]  # accounts it is shared with that were not scanned
    blind: tuple[ScanFailure, ...]  # failed scans from where it may be attached

    @property
    def latest(self) -> bool:
        return self.rank == 0

    def status(self) -> Status:
        """One word: in use > pinned > latest > unknown (a blind spot may use it) > unused.
        `unused` is exactly what `prune --keep 1` deletes."""
        if self.users:
            return "in use"
        if self.pins:
            return "pinned"
        if self.latest:
            return "latest"
        if self.unscanned_shares or self.blind:
            return "unknown"
        return "unused"

    def deletable(self, keep: int) -> bool:
        return self.rank >= keep and self.status() == "unused"


def verdicts(inventory: Inventory) -> dict[str, Verdict]:
    """The verdict of every version of the inventory, by ARN."""
    users: dict[str, list[Attachment]] = defaultdict(list)
    for attachment in inventory.attachments:
        users[attachment.layer_version_arn].append(attachment)
    scanned = inventory.scanned_accounts()
    out: dict[str, Verdict] = {}
    for records in _by_layer(inventory).values():
        latest = records[0].version
        for rank, record in enumerate(records):
            out[record.arn] = _verdict(inventory, record, rank, latest, tuple(users[record.arn]), scanned)
    return out


def _verdict(inventory: Inventory, record: LayerVersionRecord, rank: int, latest: int,
             users: tuple[Attachment, ...], scanned: set[str]) -> Verdict:
    return Verdict(record, rank, users, tuple(p for p in inventory.pins if p.names(record, latest)),
                   tuple(s for s in record.shared_with if s.isdigit() and s not in scanned),
                   tuple(f for f in inventory.failures if f.region in (None, record.target.region)))


def _by_layer(inventory: Inventory) -> dict[tuple[Target, str], list[LayerVersionRecord]]:
    """The versions of each physical layer (account, region, name), newest first."""
    by_layer: dict[tuple[Target, str], list[LayerVersionRecord]] = defaultdict(list)
    for record in inventory.versions:
        by_layer[record.key].append(record)
    return {key: sorted(records, key=lambda r: -r.version) for key, records in by_layer.items()}
