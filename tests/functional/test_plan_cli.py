"""`layersmith plan --stack NAME [--json]` through the real CLI entry point.

The committed prod stack is planned for real (layers built into a session cache shared with
tests/integration/test_stack_plans.py). Bad stack files live in a tmp copy of the project: exit 2,
one line on stderr naming the file and key, no traceback, and nothing registered with Pulumi.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import runpy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import deadline

import layersmith.infra.preview
from layersmith.cli import main
from layersmith.errors import ConfigError
from layersmith.infra.preview import _Recorder, run_under_mocks
from layersmith.project.checkout import load_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def plan_cache(repo_build_cache: Path) -> Path:
    return repo_build_cache  # the session's shared build cache (tests/conftest.py), as the integration tier's


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cache: Path, *argv: str,
        timeout: int = 1200) -> tuple[int, str, str]:
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(cache))
    with deadline(timeout):
        code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def prod_json(plan_cache: Path) -> dict[str, Any]:
    """`plan --stack prod --json`, run once for the module's JSON tests (capsys is per test)."""
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, deadline(1200), contextlib.redirect_stdout(buffer):
        mp.setenv("LAYERSMITH_CACHE_DIR", str(plan_cache))
        code = main(["--project", str(ROOT), "plan", "--stack", "prod", "--json"])
    assert code == 0
    result: dict[str, Any] = json.loads(buffer.getvalue())
    return result


# --- the table --------------------------------------------------------------------------------------

def test_plan_prod_prints_who_gets_which_version_and_who_may_read_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], plan_cache: Path) -> None:
    code, out, err = cli(monkeypatch, capsys, plan_cache, "--project", str(ROOT), "plan", "--stack", "prod")
    assert code == 0, err
    lines = out.splitlines()
    assert "stack prod" in lines[0] and "mocked" in lines[0] and "123456789012" in lines[0]

    def row(*words: str) -> str:
        found = [line for line in lines if all(w in line for w in words)]
        assert found, f"no line with {words} in:\n{out}"
        return found[0]

    # Functions: runtime, arch, role policies and the first attached layer on the function's row;
    # the next layers on the following rows, in extraction order.
    first = row("sales-report", "python3.11", "x86_64", "AWSLambdaBasicExecutionRole")
    assert "1. layersmith-prod-data-science-py311-x86_64 v7 (pinned" in first
    i = lines.index(first)
    assert "2. layersmith-prod-utils v4 (pinned" in lines[i + 1]
    assert "3. layersmith-prod-monitoring-py311-x86_64 v5 (pinned" in lines[i + 2]
    # every committed function traces; prod reserves concurrency per function (layersmith:functions)
    ingest = row("ingest-orders", "python3.11")
    assert "AWSXRayDaemonWriteAccess" in ingest and "AWSXRayDaemonWriteAccess" in first
    assert re.search(r"x86_64\s+5\s+AWSLambdaBasicExecutionRole", first), first
    assert re.search(r"x86_64\s+20\s+AWSLambdaBasicExecutionRole, AWSXRayDaemonWriteAccess, inline:sqs-event-source",
                     ingest), ingest
    assert "layersmith-prod-monitoring-py313-arm64 v5" in out
    assert row("thumbnail-index", "python3.13", "arm64", " 10 ")

    # Event source mappings: ingest-orders reads prod's queue, reporting partial batch failures.
    mapping = row("ingest-orders-sqs", "arn:aws:sqs:eu-west-1:123456789012:orders-prod")
    assert re.search(r"orders-prod\s+25\s+5 s\s+ReportBatchItemFailures$", mapping), mapping

    # Layers: every variant, retained, with its grants on the pinned and the new version.
    grants = "account 222222222222, account 333333333333, org o-exampleorg01"
    ds = row("layersmith-prod-data-science-py311-x86_64 ", "retained")
    assert f"v7 (pinned): {grants}" in ds
    assert f"v8* (new): {grants}" in lines[lines.index(ds) + 1]
    utils = row("layersmith-prod-utils ", "3.11,3.12,3.13", "x86_64,arm64")
    assert f"v3 (pinned): {grants}" in utils  # pinned by the consumer stack, granted by prod
    assert f"v4 (pinned): {grants}" in lines[lines.index(utils) + 1]
    assert "PUBLIC" not in out and "DELETED" not in out
    assert row("Resources:", "LayerVersion", "Function")
    assert err == ""


# --- --json ------------------------------------------------------------------------------------------

def test_plan_json_has_the_documented_keys(prod_json: dict[str, Any]) -> None:
    assert {"project", "stack", "resources", "outputs"} <= set(prod_json)
    assert prod_json["project"] == "layersmith" and prod_json["stack"] == "prod"
    assert set(prod_json["outputs"]) == {"layers", "functions"}
    for resource in prod_json["resources"]:
        assert set(resource) == {"type", "name", "inputs"}


def test_plan_json_uses_pulumi_type_tokens(prod_json: dict[str, Any]) -> None:
    types = {r["type"] for r in prod_json["resources"]}
    assert {"aws:lambda/layerVersion:LayerVersion", "pulumi-python:dynamic/layersmith:LayerGrants",
            "aws:lambda/function:Function", "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "aws:cloudwatch/logGroup:LogGroup"} <= types
    for token in types:
        package, _, rest = token.partition(":")
        module, _, typ = rest.partition(":")
        assert package in ("aws", "layersmith", "pulumi", "pulumi-python") and module and typ[:1].isupper(), token


def _keys(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield path, key
            if key != "variables":  # environment variable names are the user's, not Pulumi's
                yield from _keys(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner, path)


def test_plan_json_inputs_are_camel_case(prod_json: dict[str, Any]) -> None:
    seen = set()
    for resource in prod_json["resources"]:
        for where, key in _keys(resource["inputs"]):
            assert "_" not in key, f"{resource['type']} {resource['name']}{where}: {key} is not camelCase"
            seen.add(key)
    assert {"layerName", "compatibleRuntimes", "compatibleArchitectures", "licenseInfo", "skipDestroy",
            "layerArn", "version", "statements", "organizationId", "retain", "memorySize", "assumeRolePolicy",
            "policyArn", "retentionInDays", "loggingConfig", "tracingConfig"} <= seen


# --- bad config --------------------------------------------------------------------------------------

@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The project (specs, program, committed stacks) without caches, venv or tests."""
    dest = tmp_path / "project"
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(
        ".layersmith", ".venv", ".git", "tests", "bench", "docs", "__pycache__", "*.egg-info", ".*_cache"))
    return dest


BAD = {
    "shareWith.accounts": {"layersmith:shareWith": {"accounts": [12345678901]}},
    "shareWith.organizations": {"layersmith:shareWith": {"organizations": ["org-1"]}},
    "retainVersion": {"layersmith:retainVersion": False},
    "pins.sales-report.data-science": {"layersmith:requirePins": True, "layersmith:deploy": ["sales-report"],
                                       "layersmith:pins": {"sales-report": {"data-science": "latest"}}},
    "pins.nope": {"layersmith:pins": {"nope": {"utils": 1}}},
    "consume.arns.extension": {"layersmith:consume": {"arns": {
        "extension": "arn:aws:lambda:us-east-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension"}}},
}
# A `pulumi config set --secret` value, as Pulumi writes it in the stack file. The engine hands the
# program such a value decrypted and lists its key apart: both paths are refused in one line.
SECRET = {"layersmith:shareWith": {"accounts": [{"secure": "v1:Zm9vYmFy"}]}}


def test_a_secret_layersmith_value_exits_2_naming_the_key(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], copy: Path) -> None:
    write_bad(copy, SECRET)
    code, out, err = cli(monkeypatch, capsys, copy / ".cache", "--project", str(copy), "plan", "--stack", "bad",
                         timeout=60)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("layersmith: error: Pulumi.bad.yaml:3: layersmith:shareWith: is a secret (secure:), and "
                          "layersmith keys cannot be secrets; set it in plain text"), err


def test_a_secret_layersmith_value_fails_the_program_as_the_engine_passes_it(copy: Path) -> None:
    config = {"aws:region": "eu-west-1", "layersmith:shareWith": json.dumps({"accounts": ["222222222222"]})}
    recorder = _Recorder("eu-west-1", {}, {})

    def program() -> None:
        runpy.run_path(str(copy / "__main__.py"), run_name="__main__")

    with deadline(60), pytest.raises(ConfigError) as err:
        run_under_mocks(program, project="layersmith", stack="bad", region="eu-west-1", config=config,
                        recorder=recorder, secret_keys=["layersmith:shareWith"])
    assert str(err.value).startswith("Pulumi.bad.yaml: layersmith:shareWith: is a secret")
    assert recorder.resources == []


def test_a_consumers_secret_is_reported_not_silently_dropped(copy: Path) -> None:
    from layersmith.project.checkout import load_stack_config
    from layersmith.project.consumer_pins import consumer_pins

    write_bad(copy, {**SECRET, "layersmith:consume": {"stack": "acme/layersmith/prod"}})
    errors: list[str] = []
    consumer_pins(load_project(copy), load_stack_config(load_project(copy), "prod"), on_error=errors.append)
    assert [e for e in errors if "Pulumi.bad.yaml" in e] == [
        "ignoring the pins of Pulumi.bad.yaml, which consumes stack prod: Pulumi.bad.yaml:3: layersmith:shareWith: "
        "is a secret (secure:), and layersmith keys cannot be secrets; set it in plain text: pulumi config set "
        "layersmith:shareWith <value> (without --secret)"]


def test_an_error_inside_apply_is_the_same_one_line_error(copy: Path, tmp_path: Path) -> None:
    """The StackReference lookup runs inside `apply`, after main() returned: its error must still be
    the one-line RunError (and `layersmith plan`'s exit-2 ConfigError), not a traceback."""
    config = {"aws:region": "eu-west-1", "layersmith:publish": "[]", "layersmith:deploy": '["partner-digest"]',
              "layersmith:consume": json.dumps({"stack": "acme/layersmith/prod", "arns": {
                  "secrets-extension": "arn:aws:lambda:eu-west-1:015030872274:layer:ext"}}),
              "layersmith:pins": json.dumps({"partner-digest": {"utils": 3, "secrets-extension": 12}})}
    (copy / "Pulumi.bad.yaml").write_text("config: {}\n", encoding="utf-8")
    recorder = _Recorder("eu-west-1", {}, {"monitoring": []})  # the referenced stack exports no `utils`

    def program() -> None:
        runpy.run_path(str(copy / "__main__.py"), run_name="__main__")

    with pytest.MonkeyPatch.context() as mp, deadline(60), pytest.raises(ConfigError) as err:
        mp.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path / "cache"))
        run_under_mocks(program, project="layersmith", stack="bad", region="eu-west-1", config=config,
                        recorder=recorder)
    assert err.value.render() == ("Pulumi.bad.yaml: layersmith:pins.partner-digest.utils: stack acme/layersmith/prod "
                                  "exports no layer 'utils'; publish it there, or consume it by ARN")


def write_bad(project: Path, config: dict[str, Any]) -> None:
    text = yaml.safe_dump({"config": {"aws:region": "eu-west-1", **config}}, sort_keys=False)
    (project / "Pulumi.bad.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("key", sorted(BAD))
def test_bad_config_exits_2_with_one_line_and_registers_nothing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], copy: Path, key: str) -> None:
    write_bad(copy, BAD[key])
    mock_runs: list[str] = []
    real = run_under_mocks

    def spy(*args: Any, **kwargs: Any) -> Any:
        mock_runs.append(kwargs.get("stack", "?"))
        return real(*args, **kwargs)

    monkeypatch.setattr(layersmith.infra.preview, "run_under_mocks", spy)
    code, out, err = cli(monkeypatch, capsys, copy / ".cache", "--project", str(copy), "plan", "--stack", "bad",
                         timeout=60)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    # the file, the line of the key (read from the stack file), then the key
    assert re.match(rf"layersmith: error: Pulumi\.bad\.yaml:\d+: layersmith:{re.escape(key)}: ", err), err
    assert "Traceback" not in err
    assert mock_runs == [], "the program ran under mocks although the config was bad"
    assert not (copy / ".cache").exists(), "something was built although the config was bad"


@pytest.mark.parametrize("key", sorted(BAD))
def test_bad_config_fails_the_program_before_any_resource(copy: Path, key: str) -> None:
    """What `pulumi up` does: the real `__main__.py` with the engine's string-encoded config raises
    the same error, and not a single resource reaches the engine."""
    write_bad(copy, BAD[key])
    raw = yaml.safe_load((copy / "Pulumi.bad.yaml").read_text(encoding="utf-8"))["config"]
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    recorder = _Recorder("eu-west-1", {}, {})

    def program() -> None:
        runpy.run_path(str(copy / "__main__.py"), run_name="__main__")

    with deadline(60), pytest.raises(ConfigError) as err:
        run_under_mocks(program, project="layersmith", stack="bad", region="eu-west-1", config=config,
                        recorder=recorder)
    assert str(err.value).startswith(f"Pulumi.bad.yaml: layersmith:{key}: ")
    assert recorder.resources == []


def test_the_recorder_does_see_resources_of_a_good_stack(copy: Path, tmp_path: Path) -> None:
    """The control for the test above: a valid consumer-only stack (no layer build) registers resources."""
    write_bad(copy, {"layersmith:publish": [], "layersmith:deploy": ["partner-digest"],
                     "layersmith:consume": {"arns": {"secrets-extension": "arn:aws:lambda:eu-west-1:015030872274:"
                                                     "layer:AWS-Parameters-and-Secrets-Lambda-Extension",
                                                     "utils": "arn:aws:lambda:eu-west-1:111111111111:layer:u",
                                                     "monitoring": "arn:aws:lambda:eu-west-1:111111111111:layer:m"}},
                     "layersmith:pins": {"partner-digest": {"utils": 1, "monitoring": 2, "secrets-extension": 12}}})
    raw = yaml.safe_load((copy / "Pulumi.bad.yaml").read_text(encoding="utf-8"))["config"]
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    recorder = _Recorder("eu-west-1", {}, {})

    def program() -> None:
        runpy.run_path(str(copy / "__main__.py"), run_name="__main__")

    with pytest.MonkeyPatch.context() as mp, deadline(60):
        mp.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path / "cache"))
        run_under_mocks(program, project="layersmith", stack="bad", region="eu-west-1", config=config,
                        recorder=recorder)
    assert "aws:lambda/function:Function" in {r["type"] for r in recorder.resources}


def test_unknown_stack_names_the_committed_ones(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(monkeypatch, capsys, tmp_path / "cache", "--project", str(ROOT), "plan", "--stack",
                         "prdo", timeout=60)
    assert code == 2 and out == ""
    assert err.startswith("layersmith: error: ") and "Pulumi.prdo.yaml" in err
    assert "consumer, dev, prod, staging" in err and err.count("\n") == 1
