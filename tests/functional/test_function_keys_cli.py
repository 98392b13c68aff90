"""Bad values of each new function.toml key, and of its per-stack override, through the CLI:
exit 2, one line on stderr naming the file and key, no traceback (`-v` shows it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CliRun, write_function

QUEUE = "arn:aws:sqs:eu-west-1:123456789012:q"

BAD_TOML = [
    ("reserved_concurrency = -1", "reserved_concurrency"),
    ('kms_key_arn = "alias/x"', "kms_key_arn"),
    ('code_signing_config_arn = "csc"', "code_signing_config_arn"),
    ('managed_policies = ["AdminAccess"]', "managed_policies"),
    ('statements = [{actions = ["s3:GetObject"], resources = ["*"]}]', "statements[0].resources"),
    ('sqs = {queue_arn = "q"}', "sqs.queue_arn"),
    (f'sqs = {{queue_arn = "{QUEUE}", batch_size = 0}}', "sqs.batch_size"),
]
BAD_STACK = [
    ({"f": {"reserved_concurrency": "many"}}, "layersmith:functions.f.reserved_concurrency"),
    ({"f": {"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/k"}}, "layersmith:functions.f.kms_key_arn"),
    ({"f": {"sqs": {"queue_arn": QUEUE, "batch_sise": 5}}}, "layersmith:functions.f.sqs.batch_sise"),
    ({"f": {"timeout": 5}}, "layersmith:functions.f.timeout"),
]


def project(root: Path, toml_line: str = "", functions: object = None) -> Path:
    (root / "layers").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: keys\nruntime: python\n", encoding="utf-8")
    fn = write_function(root, "f", "def handler(event, context):\n    return 1\n", layers=[])
    toml = (fn / "function.toml").read_text(encoding="utf-8")
    (fn / "function.toml").write_text(toml_line + "\n" + toml, encoding="utf-8")
    config: dict[str, object] = {"aws:region": "eu-west-1", "layersmith:publish": []}
    if functions is not None:
        config["layersmith:functions"] = functions
    (root / "Pulumi.s.yaml").write_text(json.dumps({"config": config}), encoding="utf-8")
    return root


def one_line(cli: CliRun, root: Path, command: str) -> str:
    argv = [command, "f"] if command == "invoke" else [command, "--stack", "s"]
    code, out, err = cli("--project", root, *argv, *(["--stack", "s"] if command == "invoke" else []))
    assert code == 2 and out == "", (code, out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.parametrize(("line", "key"), BAD_TOML)
@pytest.mark.parametrize("command", ["plan", "check", "invoke"])
def test_bad_function_toml_value_exits_2_with_one_line(tmp_path: Path, cli: CliRun, line: str, key: str,
                                                       command: str) -> None:
    root = project(tmp_path / "p", line)
    err = one_line(cli, root, command)
    assert err.startswith(f"layersmith: error: {root / 'functions/f/function.toml'}:1: {key}: "), err


@pytest.mark.parametrize(("functions", "key"), BAD_STACK)
def test_bad_stack_override_exits_2_with_one_line(tmp_path: Path, cli: CliRun, functions: object, key: str) -> None:
    root = project(tmp_path / "p", functions=functions)
    err = one_line(cli, root, "plan")
    assert err.startswith(f"layersmith: error: Pulumi.s.yaml:1: {key}: "), err  # a one-line JSON stack file


def test_verbose_shows_the_traceback(tmp_path: Path, cli: CliRun) -> None:
    root = project(tmp_path / "p", "reserved_concurrency = -1")
    code, _, err = cli("--project", root, "-v", "plan", "--stack", "s")
    assert code == 2 and "Traceback (most recent call last)" in err
