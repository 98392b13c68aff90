"""`Verdict.status`, the one word `inventory` prints per version and `prune` reads: each status in
precedence order, spelled as the inventory's JSON and its readers expect (mutation testing found
"unknown" unchecked: any spelling passed)."""

from __future__ import annotations

import pytest

from layersmith.aws.records import Attachment, LayerRef, LayerVersionRecord, PinRecord, ScanFailure, Target
from layersmith.aws.verdict import Verdict

A = Target("111111111111", "eu-west-1")
RECORD = LayerVersionRecord(A, "layersmith-dev-utils", 3, "arn:aws:lambda:eu-west-1:111111111111:layer:"
                            "layersmith-dev-utils:3", "2026-11-03T10:00:00.000+0000", 1000, ("python3.12",),
                            ("x86_64",), (), LayerRef(("dev",), "layersmith-dev", "utils", "any"))
USER = Attachment(A, "api", "version", "7", RECORD.arn)
PIN = PinRecord("dev", "layersmith-dev", "api", "utils", 3)
FAILED = ScanFailure("222222222222", "eu-west-1", "access denied")


@pytest.mark.parametrize(("rank", "users", "pins", "shares", "blind", "status"), [
    (0, (USER,), (PIN,), ("222222222222",), (FAILED,), "in use"),
    (1, (), (PIN,), ("222222222222",), (FAILED,), "pinned"),
    (0, (), (), ("222222222222",), (FAILED,), "latest"),
    (1, (), (), ("222222222222",), (), "unknown"),
    (1, (), (), (), (FAILED,), "unknown"),
    (1, (), (), (), (), "unused"),
])
def test_each_status_in_precedence_order(rank: int, users: tuple[Attachment, ...], pins: tuple[PinRecord, ...],
                                         shares: tuple[str, ...], blind: tuple[ScanFailure, ...], status: str) -> None:
    assert Verdict(RECORD, rank, users, pins, shares, blind).status() == status
