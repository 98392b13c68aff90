"""`promote LAYER --to-consumers` against moto_server: every committed stack pinning the layer moves to
the version holding the content in its regions, in one diff, all files or none; other accounts'
functions from an inventory are a to-do list. World and seed: test_online_pins.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto_layers import layer_zip
from test_online_pins import PROD, STAGING, changed_lines, endpoint, project, publish, run, seeded

__all__ = ["endpoint", "project", "seeded"]  # fixtures, used by name

STAGING_OLD = STAGING.replace("utils: 2", "utils: 1   # not yet on the tested build")
QA = STAGING.replace("utils: 2", "utils: 1")


def inventory(path: Path) -> Path:
    """`inventory --json` as the fleet shows it: prod's utils v1 in eu-west-1 attached by prod's own
    worker and by another account's billing-api; v1 in us-east-1 by a third account's function."""
    def version(region: str, number: int, users: list[tuple[str, str]]) -> dict[str, object]:
        return {"name": "layersmith-prod-utils", "version": number, "account": "111111111111", "region": region,
                "arn": f"arn:aws:lambda:{region}:111111111111:layer:layersmith-prod-utils:{number}",
                "stacks": ["prod"], "layer": "utils", "variant": "any", "created": "", "code_size": 1,
                "runtimes": [], "architectures": [], "shared_with": [], "shared_unmanaged": [], "latest": False,
                "pinned_by": [], "status": "in use",
                "used_by": [{"account": a, "region": region, "function": f, "kind": "function", "qualifier": "$LATEST",
                             "alias_version": None, "layer_version_arn": ""} for a, f in users]}

    data = {"scanned": [], "failures": [], "attached_but_not_found": [], "summary": "", "versions": [
        version("eu-west-1", 1, [("111111111111", "layersmith-prod-worker"), ("222222222222", "billing-api")]),
        version("us-east-1", 1, [("333333333333", "reports")])]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_every_consumer_stack_moves_in_one_diff_and_the_fleet_is_a_todo(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (project / "Pulumi.staging.yaml").write_text(STAGING_OLD, encoding="utf-8")
    fleet = inventory(tmp_path / "fleet.json")
    code, out, err = run(capsys, project, "promote", "utils", "--to-consumers", "--dry-run")
    assert (code, err) == (0, "") and "dry run: nothing written (Pulumi.prod.yaml, Pulumi.staging.yaml)" in out
    assert "other accounts' functions are not listed: pass --inventory FILE" in out
    assert (project / "Pulumi.prod.yaml").read_text(encoding="utf-8") == PROD
    code, out, err = run(capsys, project, "promote", "utils", "--to-consumers", "--inventory", str(fleet))
    assert (code, err) == (0, ""), err
    # this checkout's build: prod-utils v2 in eu-west-1 (v1 in us-east-1), staging-utils v2
    assert changed_lines(PROD, (project / "Pulumi.prod.yaml").read_text(encoding="utf-8")) == [
        ("      utils: 1  # still on the old build\n", "      utils: 2  # still on the old build\n")]
    assert changed_lines(STAGING_OLD, (project / "Pulumi.staging.yaml").read_text(encoding="utf-8")) == [
        ("      utils: 1   # not yet on the tested build\n", "      utils: 2   # not yet on the tested build\n")]
    assert out.count("--- a/Pulumi.") == 2 and "wrote Pulumi.prod.yaml, Pulumi.staging.yaml" in out
    assert "Pulumi.staging.yaml layersmith:pins.api.utils: v1 -> v2  [layersmith-staging-utils v2 in eu-west-1" in out
    todo = out.split("to do outside this repository")[1].splitlines()
    assert todo[1:] == ["  222222222222  eu-west-1  billing-api: layersmith-prod-utils v1 -> v2",
                        "  333333333333  us-east-1  reports: layersmith-prod-utils v1 (already holds it)"]
    assert not list(project.glob(".Pulumi.*.tmp"))


def test_one_stack_without_the_content_writes_no_file(
        project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    (project / "Pulumi.staging.yaml").write_text(STAGING_OLD, encoding="utf-8")
    publish("eu-west-1", "layersmith-prod-utils", seeded["old"])  # prod is fine either way (v2 holds the build)
    code, out, err = run(capsys, project, "promote", "tools", "--to-consumers")
    # tools: prod pins {eu-west-1: 1, us-east-1: 9}; us-east-1 holds only other bytes
    assert (code, out) == (1, "")
    assert "prod: no version holds the content of this checkout's build (any) in us-east-1" in err
    assert err.rstrip().endswith("nothing was written") and len(err.strip().splitlines()) == 1
    assert (project / "Pulumi.prod.yaml").read_text(encoding="utf-8") == PROD


def test_all_or_none_across_stacks(project: Path, seeded: dict[str, bytes],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Promoting prod's newest build: qa could move (its v2 holds it), staging cannot (none of its
    versions does), so neither file changes, and the refusal names staging."""
    newest = layer_zip("the newest utils")
    publish("eu-west-1", "layersmith-prod-utils", newest)  # prod v3
    publish("eu-west-1", "layersmith-qa-utils", seeded["old"], newest)  # qa v1 old, v2 newest
    (project / "Pulumi.staging.yaml").write_text(STAGING_OLD, encoding="utf-8")
    (project / "Pulumi.qa.yaml").write_text(QA, encoding="utf-8")
    code, out, err = run(capsys, project, "promote", "utils", "--to-consumers", "--from", "prod", "--version", "3")
    assert (code, out) == (1, "")
    assert "staging: no version holds the content of layersmith-prod-utils v3 (eu-west-1) in eu-west-1" in err
    assert "qa:" not in err and "prod:" not in err
    assert (project / "Pulumi.qa.yaml").read_text(encoding="utf-8") == QA
    assert (project / "Pulumi.staging.yaml").read_text(encoding="utf-8") == STAGING_OLD
    # with staging's file gone, qa alone moves
    (project / "Pulumi.staging.yaml").unlink()
    code, out, err = run(capsys, project, "promote", "utils", "--to-consumers", "--from", "prod", "--version", "3")
    assert (code, err) == (0, "") and "wrote Pulumi.qa.yaml;" in out
    assert changed_lines(QA, (project / "Pulumi.qa.yaml").read_text(encoding="utf-8")) == [
        ("      utils: 1\n", "      utils: 2\n")]


def test_bad_input_is_one_line(project: Path, seeded: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, project, "promote", "utils", "--to-consumers", "--function", "api")
    assert (code, out) == (2, "") and "--to-consumers: re-pins every pin on LAYER" in err
    code, _, err = run(capsys, project, "promote", "utils", "--to", "prod", "--inventory", "x.json")
    assert code == 2 and "--inventory: --inventory lists the consumers outside this repository" in err

