"""`layersmith report --online` against moto_server, in test_online_pins.py's world: the scan feeds
the matrix and the grants, and each pinned version's CodeSha256 is read to find content drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_online_pins import PROD, code_sha256, endpoint, project, run, seeded

__all__ = ["endpoint", "project", "seeded"]  # fixtures, used by name


def test_report_online_scans_the_fleet_and_finds_content_drift(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    """`report --online`: the scan's versions become the matrix's "latest", and a pin naming v1 in
    both regions, whose two v1s hold different bytes, is drift (CodeSha256 read from Lambda)."""
    prod = PROD.replace("tools: {eu-west-1: 1, us-east-1: 9}", "tools: {eu-west-1: 1, us-east-1: 1}")
    (project / "Pulumi.prod.yaml").write_text(prod, encoding="utf-8")
    code, out, err = run(capsys, project, "report", "--online", "--stack", "prod", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["online"] is True and data["inventory"] == "online scan"
    drift = {(d["function"], d["layer"]): d for d in data["drift"]}
    tools = drift[("api", "tools")]
    assert tools["status"] == "differs" and tools["pins"] == {"eu-west-1": 1, "us-east-1": 1}
    assert tools["code_sha256"]["eu-west-1"] == code_sha256(seeded["tools"])
    worker = next(r for r in data["rows"] if r["stack"] == "prod" and r["function"] == "worker")
    # prod-utils in eu-west-1 has v1 and v2: worker's v1 is one behind
    assert worker["cells"]["utils any"]["state"] == "behind"
    assert {g["where"] for g in data["grants"]} <= {"123456789012/eu-west-1", "123456789012/us-east-1"}
