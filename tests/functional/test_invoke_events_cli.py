"""`layersmith invoke --event KIND`, `--env-vars FILE` and the no-`--stack` line, through the CLI,
with a real local invocation of a handler that echoes what it got (its event, its context, its
environment). The project is scaffolded by `layersmith init` itself: a source-only layer (built
for real, no PyPI) and a python3.11 x86_64 function, the runtime of this host."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun

from layersmith.local.events import KINDS, sample_event

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11) or platform.machine() not in ("x86_64", "AMD64"),
    reason="real invocations need a python3.11 x86_64 host (the function's runtime)")

ECHO = """
import os

import greet


def handler(event, context):
    names = ("AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "TABLE", "STAGE", "LOG_LEVEL")
    return {"event": event, "greeting": greet.greeting("you"),
            "context": {"function_name": context.function_name, "arn": context.invoked_function_arn},
            "env": {name: os.environ.get(name) for name in names}}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("invoke-events") / "project"
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: events\nruntime: python\n", encoding="utf-8")
    config = {"aws:region": "eu-west-1", "layersmith:deploy": ["echo"]}
    (root / "Pulumi.dev.yaml").write_text(json.dumps({"config": config}), encoding="utf-8")
    from layersmith.cli import main
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYERSMITH_CACHE_DIR", str(tmp_path_factory.mktemp("invoke-events-cache")))
        assert main(["--project", str(root), "init", "layer", "greet", "--runtime", "python3.11"]) == 0
        assert main(["--project", str(root), "init", "function", "echo", "--layers", "greet"]) == 0
        fn = root / "functions" / "echo"
        (fn / "handler.py").write_text(ECHO, encoding="utf-8")
        toml = (fn / "function.toml").read_text(encoding="utf-8")
        (fn / "function.toml").write_text(toml.replace('# [environment]\n# LOG_LEVEL = "DEBUG"',
                                                       '[environment]\nTABLE = "toml"\nLOG_LEVEL = "INFO"'))
        yield root


def invoke(cli: CliRun, project: Path, *argv: str | Path) -> tuple[Any, str]:
    code, out, err = cli("--project", project, "invoke", "echo", *argv)
    assert code == 0, err
    return json.loads(out), err


def no_stack_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "no --stack" in line]


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_sample_event_reaches_the_handler_as_generated(project: Path, cli: CliRun, kind: str) -> None:
    result, err = invoke(cli, project, "--event", kind)
    assert result["event"] == json.loads(json.dumps(sample_event(kind, "us-east-1", "local-echo")))
    assert f"with event {kind} (sample, us-east-1)" in err
    assert result["greeting"] == "Hello you, from the greet layer"  # the scaffolded layer is attached


def test_with_a_stack_the_event_is_in_the_stacks_region(project: Path, cli: CliRun) -> None:
    result, err = invoke(cli, project, "--event", "sqs", "--stack", "dev")
    [record] = result["event"]["Records"]
    assert record["awsRegion"] == "eu-west-1" and record["eventSourceARN"].startswith("arn:aws:sqs:eu-west-1:")
    assert result["env"]["AWS_REGION"] == "eu-west-1" and result["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "events-dev-echo"
    assert no_stack_lines(err) == []


def test_a_file_named_like_a_kind_is_read_as_a_file(project: Path, cli: CliRun, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("sqs").write_text('{"from": "a file"}', encoding="utf-8")
    result, err = invoke(cli, project, "--event", "./sqs")
    assert result["event"] == {"from": "a file"} and "with event sqs " in err
    result, err = invoke(cli, project, "--event", "sqs")  # the word is the sample event, and a note says so
    assert "Records" in result["event"]
    assert "layersmith: note: --event sqs is the sample event; to read the file sqs here, pass --event ./sqs" in err


def test_without_stack_one_line_says_the_name_and_region_the_handler_sees(project: Path, cli: CliRun) -> None:
    result, err = invoke(cli, project)
    [line] = no_stack_lines(err)
    assert line == ("layersmith: no --stack: running as function local-echo in region us-east-1 "
                    "(AWS_LAMBDA_FUNCTION_NAME, AWS_REGION; context.invoked_function_arn "
                    f"{result['context']['arn']}); pass --stack dev to run as a stack's")
    assert result["context"]["function_name"] == result["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "local-echo"
    assert result["env"]["AWS_REGION"] == "us-east-1"
    assert result["context"]["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:local-echo"


def test_without_stack_for_a_function_no_stack_deploys(project: Path, cli: CliRun) -> None:
    assert cli("--project", project, "init", "function", "lonely", "--layers", "greet")[0] == 0
    code, _, err = cli("--project", project, "invoke", "lonely", "--event", "s3")
    assert code == 0, err
    [line] = no_stack_lines(err)
    assert line.startswith("layersmith: no --stack: running as function local-lonely in region us-east-1 ")
    assert line.endswith("; no stack deploys it yet: add it to a stack's layersmith:deploy, then pass --stack")


def test_env_vars_file_function_block_over_parameters_over_function_toml(project: Path, cli: CliRun,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"Parameters": {"TABLE": "global", "STAGE": "all"}, "echo": {"TABLE": "own"},
                                "events-dev-echo": {"TABLE": "the stack's physical name"}}))
    result, err = invoke(cli, project, "--env-vars", path)
    assert {k: result["env"][k] for k in ("TABLE", "STAGE", "LOG_LEVEL")} == {
        "TABLE": "own", "STAGE": "all", "LOG_LEVEL": "INFO"}
    assert f"layersmith: note: {path} sets STAGE, which functions/echo/function.toml does not declare" in err
    # the physical name addresses the function too (SAM: logical id, then FunctionName)
    path.write_text(json.dumps({"events-dev-echo": {"TABLE": "physical"}}))
    result, _ = invoke(cli, project, "--env-vars", path, "--stack", "dev")
    assert result["env"]["TABLE"] == "physical"
    # no block for this function: function.toml's value stands
    path.write_text(json.dumps({"other": {"TABLE": "not mine"}}))
    result, _ = invoke(cli, project, "--env-vars", path)
    assert result["env"]["TABLE"] == "toml"


@pytest.mark.parametrize(("content", "says"), [
    ('{"echo": {"TABLE": 1}', ": --env-vars: is not JSON ("),
    ('{"echo": ["TABLE=x"]}', ": echo: must be an object of variable names to values"),
    ('{"echo": {"TABLE": null}}', ": echo.TABLE: null must be a string, number or boolean"),
])
def test_a_bad_env_vars_file_is_one_line_naming_file_and_key(project: Path, cli: CliRun, tmp_path: Path,
                                                             content: str, says: str) -> None:
    path = tmp_path / "env.json"
    path.write_text(content)
    code, out, err = cli("--project", project, "invoke", "echo", "--env-vars", path)
    assert (code, out) == (2, "") and "Traceback" not in err
    [line] = err.splitlines()
    assert line.startswith(f"layersmith: error: {path}{says}")
