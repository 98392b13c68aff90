"""`layersmith report` on the command line: offline from the repo's stacks, from an inventory file,
and refusing an inventory it cannot trust in one line (exit 2, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CliRun
from helpers import REPO
from synthetic_fleet import fleet_inventory


@pytest.fixture
def empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No build in the cache: the report must say so, never build."""
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_offline_report_is_written_atomically_and_says_what_is_not_built(
        cli: CliRun, empty_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text("the previous report", encoding="utf-8")
    code, stdout, stderr = cli("--project", REPO, "report", "--output", out)
    assert (code, stderr) == (0, "")
    assert f"wrote {out}" in stdout and "10 functions × 4 layer variants, 0 of 4 variants built" in stdout
    assert "utils any: not built here: run `layersmith build utils`" in stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and len(html.encode()) < 2_000_000
    assert out.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r.html")] == []  # no temporary left
    assert not list(empty_cache.rglob("layer.zip")), "report must never build"


def test_json_gives_the_same_data(cli: CliRun, empty_cache: Path, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.json"
    data = fleet_inventory(3, ["eu-west-1"])
    data["failures"] = [{"account": "200000000009", "region": None, "message": "AccessDenied on sts:AssumeRole"}]
    fleet.write_text(json.dumps(data), encoding="utf-8")
    code, stdout, _ = cli("--project", REPO, "report", "--inventory", fleet, "--json")
    assert code == 0
    data = json.loads(stdout)
    assert data["format"] == "layersmith-report/1" and data["inventory"] == str(fleet)
    fleet_rows = [r for r in data["rows"] if r["origin"] == "fleet"]
    assert {r["account"] for r in fleet_rows} == {"200000000001", "200000000002"}
    assert all(r["foreign"] for r in fleet_rows)
    prod = next(r for r in data["rows"] if r["stack"] == "prod" and r["function"] == "sales-report")
    # Pulumi.prod.yaml pins data-science 7; the fleet's newest is 8
    assert prod["cells"]["data-science py311-x86_64"] | {"pins": None} == {
        "text": "v7", "state": "behind", "behind": 1, "layer_name": "layersmith-prod-data-science-py311-x86_64",
        "pins": None}
    assert {g["what"] for g in data["grants"]} >= {"layersmith-prod-utils:5", "layersmith-prod-utils:4"}
    assert "not scanned, so missing here: 200000000009 (all regions): AccessDenied on sts:AssumeRole" in data["notes"]


def _refused(cli: CliRun, path: Path) -> str:
    code, stdout, stderr = cli("--project", REPO, "report", "--inventory", path, "--output", path.with_suffix(".html"))
    assert (code, stdout) == (2, "")
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not path.with_suffix(".html").exists()
    return stderr


def test_an_older_or_foreign_inventory_is_refused_in_one_line(cli: CliRun, empty_cache: Path, tmp_path: Path) -> None:
    data = fleet_inventory(2, ["eu-west-1"])
    older = tmp_path / "older.json"
    del data["versions"][0]["shared_with"]
    older.write_text(json.dumps(data), encoding="utf-8")
    assert "is an older or foreign inventory format: versions[0] has no 'shared_with'" in _refused(cli, older)

    other = tmp_path / "other.json"
    data = fleet_inventory(2, ["eu-west-1"])
    data["versions"][1]["name"] = "billing-prod-pdf"
    other.write_text(json.dumps(data), encoding="utf-8")
    assert "is another project's inventory: versions[1] is layer 'billing-prod-pdf'" in _refused(cli, other)

    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"resources": []}), encoding="utf-8")
    assert "is not the JSON of `layersmith inventory --json`" in _refused(cli, plan)

    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert "broken.json: is not JSON" in _refused(cli, broken)


def test_an_output_that_cannot_be_written_is_one_line(cli: CliRun, empty_cache: Path, tmp_path: Path) -> None:
    code, stdout, stderr = cli("--project", REPO, "report", "--output", tmp_path / "missing" / "r.html")
    assert code != 0 and stdout == "" and "Traceback" not in stderr
    assert stderr.strip().splitlines() == [f"layersmith: error: {tmp_path / 'missing' / 'r.html'}: cannot write the "
                                           "report here (its directory is not writable); pass another --output"]


def test_scan_flags_without_online_are_refused(cli: CliRun, empty_cache: Path, tmp_path: Path) -> None:
    code, stdout, stderr = cli("--project", REPO, "report", "--regions", "us-east-1", "--output", tmp_path / "r.html")
    assert (code, stdout) == (2, "") and "--regions: --regions and --accounts say what --online scans" in stderr
    assert not (tmp_path / "r.html").exists()


def test_offline_behind_counts_from_the_newest_version_any_stack_pins(cli: CliRun, empty_cache: Path) -> None:
    """Pulumi.consumer.yaml pins prod's utils 3 while prod pins 4: one behind; prod is at the newest
    it pins; dev follows latest; nothing to say about drift or the fleet offline."""
    code, stdout, _ = cli("--project", REPO, "report", "--json")
    assert code == 0
    data = json.loads(stdout)
    cell = {(r["stack"], r["function"]): r["cells"] for r in data["rows"]}
    assert cell[("consumer", "partner-digest")]["utils any"]["state"] == "behind"
    assert cell[("consumer", "partner-digest")]["utils any"]["layer_name"] == "layersmith-prod-utils"
    assert cell[("prod", "sales-report")]["data-science py311-x86_64"]["state"] == "current"
    assert cell[("dev", "sales-report")]["utils any"]["state"] == "latest"
    assert all(r["origin"] == "stack" for r in data["rows"]) and data["drift"] == []
    assert {(g["what"], g["shared_with"][0]) for g in data["grants"]} >= {
        ("stack prod: data-science, monitoring, utils", "222222222222")}
