"""The project model (`layersmith.project.checkout`): each file read once per command, bad files reported
once, and a stack judged only on the specs it deploys and publishes (its blast radius).

Reads are counted through the `Reader` seam (`layersmith.project.specs.Reader`): no monkeypatching.
"""

from __future__ import annotations

import argparse
import json
import logging
import runpy
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun
from fakes import CountingReader
from helpers import REPO, deadline

from layersmith.commands import check
from layersmith.infra.preview import _engine_config, _mock_remote_layers, _Recorder, run_plan, run_under_mocks
from layersmith.model import BuildResult
from layersmith.project.checkout import load_project

BROKEN = "memory = = 3\n"  # the example: malformed TOML
INGEST = "functions/ingest-orders/function.toml"  # deployed by dev/staging/prod, not by consumer


# Every file once: the project's name, the 3 layer.toml, the 4 function.toml, prod's stack file and
# the other committed stacks (read once each: are they consumers of prod?).
ONCE_EACH = {
    "Pulumi.yaml": 1, "Pulumi.prod.yaml": 1, "Pulumi.consumer.yaml": 1, "Pulumi.dev.yaml": 1,
    "Pulumi.staging.yaml": 1,
    "layers/data-science/layer.toml": 1, "layers/monitoring/layer.toml": 1, "layers/utils/layer.toml": 1,
    "functions/ingest-orders/function.toml": 1, "functions/partner-digest/function.toml": 1,
    "functions/sales-report/function.toml": 1, "functions/thumbnail-index/function.toml": 1,
}


@pytest.fixture
def repo(repo_builds: dict[tuple[str, str], BuildResult], use_cache: Path) -> Path:
    return REPO


@pytest.fixture
def copy(tmp_path: Path, repo: Path) -> Path:
    """The project without caches, venv or tests; its layers hit the session's build cache."""
    dest = tmp_path / "project"
    shutil.copytree(repo, dest, ignore=shutil.ignore_patterns(
        ".layersmith", ".venv", ".git", "tests", "bench", "docs", "__pycache__", "*.egg-info", ".*_cache"))
    return dest


def _counts(reader: CountingReader) -> dict[str, int]:
    return dict(sorted(reader.reads.items()))


def test_run_plan_reads_each_file_once(repo: Path) -> None:
    reader = CountingReader(repo)
    with deadline(600):
        run_plan(load_project(repo, reader), "prod")
    print("run_plan(prod) reads:", _counts(reader))
    assert _counts(reader) == dict(sorted(ONCE_EACH.items()))


def test_check_reads_each_file_once(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reader = CountingReader(repo)
    args = argparse.Namespace(project=repo, stack="prod", json=True, no_policy=False, online=False, profile=None)
    with deadline(600):
        code = check.run(args, reader)
    report = json.loads(capsys.readouterr().out)
    print("check --stack prod reads:", _counts(reader))
    assert code == 0 and any(f["check"].startswith("policy:") for f in report["findings"])  # the program ran
    assert _counts(reader) == dict(sorted(ONCE_EACH.items()))


# --- blast radius -------------------------------------------------------------------------------------


def _lines_naming(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if name in line]


def test_plan_of_a_stack_that_does_not_deploy_the_broken_function_warns_once(
        copy: Path, cli: CliRun, caplog: pytest.LogCaptureFixture) -> None:
    (copy / INGEST).write_text(BROKEN, encoding="utf-8")
    with deadline(600):
        code, out, err = cli("--project", copy, "plan", "--stack", "consumer")
    assert code == 0, err
    assert "partner-digest" in out
    # once, on stderr, from the CLI: the program run under its mocks does not report it again
    warned = _lines_naming(err, INGEST)
    assert len(warned) == 1 and warned[0].startswith("layersmith: warning: "), err
    assert "malformed TOML" in warned[0] and "stack consumer does not use it" in warned[0]
    assert not [r for r in caplog.records if INGEST in r.getMessage()]


def test_the_program_of_a_stack_that_does_not_deploy_the_broken_function_warns(
        copy: Path, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """As `pulumi preview --stack consumer` runs it: `__main__.py` loads the project itself."""
    (copy / INGEST).write_text(BROKEN, encoding="utf-8")
    raw = load_project(copy).stack_raw("consumer")
    recorder = _Recorder("eu-west-1", {}, _mock_remote_layers(load_project(REPO), "eu-west-1", "acme/layersmith/prod"))

    def program() -> None:
        runpy.run_path(str(copy / "__main__.py"), run_name="__main__")

    with pytest.MonkeyPatch.context() as mp, deadline(300), caplog.at_level(logging.WARNING):
        mp.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path / "cache"))
        run_under_mocks(program, project="layersmith", stack="consumer", region="eu-west-1",
                        config=_engine_config(raw), recorder=recorder, preview=True)
    assert [r["name"] for r in recorder.resources if r["type"] == "aws:lambda/function:Function"] == [
        "partner-digest"]
    warned = [r.getMessage() for r in caplog.records if INGEST in r.getMessage()]
    assert len(warned) == 1 and "stack consumer does not use it" in warned[0], warned


def test_check_reports_each_broken_unused_file_once_as_a_warning(
        copy: Path, cli: CliRun, caplog: pytest.LogCaptureFixture) -> None:
    (copy / INGEST).write_text(BROKEN, encoding="utf-8")
    (copy / "layers" / "data-science" / "layer.toml").write_text('runtimes = "python3.11"\n', encoding="utf-8")
    with deadline(600):
        code, out, err = cli("--project", copy, "check", "--stack", "consumer", "--json")
    report: dict[str, Any] = json.loads(out)
    assert code == 0 and report["ok"] is True, report
    spec = [f for f in report["findings"] if f["check"] == "spec"]
    assert [f["level"] for f in spec] == ["warning", "warning"]
    assert INGEST in spec[0]["message"] and "malformed TOML" in spec[0]["message"]
    assert "layers/data-science/layer.toml" in spec[1]["message"] and "runtimes" in spec[1]["message"]
    # reported in the report only: not again on stderr, nor by the program the policy pack runs
    assert not _lines_naming(err, INGEST)
    assert not [r for r in caplog.records if INGEST in r.getMessage()]


@pytest.mark.parametrize("command", ["plan", "check"])
def test_a_broken_file_the_stack_uses_is_still_its_error(copy: Path, cli: CliRun, command: str) -> None:
    (copy / INGEST).write_text(BROKEN, encoding="utf-8")
    with deadline(600):
        code, out, err = cli("--project", copy, command, "--stack", "prod")
    assert code == 2 and out == "", out
    assert len(err.splitlines()) == 1 and err.startswith("layersmith: error: "), err
    assert INGEST in err and "malformed TOML" in err


def test_a_broken_consumer_stack_is_reported_once_by_check(
        copy: Path, cli: CliRun, caplog: pytest.LogCaptureFixture) -> None:
    """`check --stack prod`: a consuming stack file that does not validate is one error in the report,
    not again as a warning of the program that the policy pack runs."""
    (copy / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  layersmith:consume:\n    stack: acme/layersmith/prod\n"
        "  layersmith:retainVersion: false\n", encoding="utf-8")
    with deadline(600):
        code, out, err = cli("--project", copy, "check", "--stack", "prod", "--json")
    report: dict[str, Any] = json.loads(out)
    named = [f["message"] for f in report["findings"] if "Pulumi.broken.yaml" in f["message"]]
    assert code == 1 and len(named) == 1 and "layersmith:retainVersion: unknown key" in named[0], report
    assert not _lines_naming(err, "Pulumi.broken.yaml")
    assert not [r for r in caplog.records if "Pulumi.broken.yaml" in r.getMessage()]

