"""The function.toml keys of issue 15 and their per-stack overrides (`layersmith:functions`).

Every bad value fails with one line naming the file and the key (exit code 2); good values land
in the spec the infra reads. Expected values are written out here, not computed by the code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from layersmith.errors import ConfigError, SpecError, UserError
from layersmith.model import SqsSource, Statement
from layersmith.project.specs import load_function, load_functions, load_layers
from layersmith.project.stacks import parse_stack_config

QUEUE = "arn:aws:sqs:eu-west-1:123456789012:orders"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CSC = "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0"
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
BASE = 'handler = "handler.handler"\nruntime = "python3.11"\n'

EVERY_KEY = f"""{BASE}reserved_concurrency = 5
kms_key_arn = "{KEY}"
code_signing_config_arn = "{CSC}"
managed_policies = ["arn:aws:iam::123456789012:policy/team/orders-read"]

[[statements]]
effect = "Allow"
actions = ["dynamodb:PutItem", "dynamodb:GetItem"]
resources = ["{TABLE}"]

[[statements]]
actions = ["xray:PutTraceSegments"]
resources = ["*"]
allow_wildcard = true

[sqs]
queue_arn = "{QUEUE}"
batch_size = 50
maximum_batching_window = 2
"""


def function_dir(root: Path, toml: str, name: str = "fn") -> Path:
    directory = root / "functions" / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "handler.py").write_text("def handler(event, context):\n    return {}\n", encoding="utf-8")
    (directory / "function.toml").write_text(toml, encoding="utf-8")
    return directory


def spec_fails(tmp_path: Path, toml: str, key: str, *says: str) -> SpecError:
    directory = function_dir(tmp_path, toml)
    with pytest.raises(SpecError) as err:
        load_function(directory)
    message = str(err.value)
    assert isinstance(err.value, UserError) and err.value.exit_code == 2
    assert "\n" not in message, "one line"
    # FILE[:LINE]: KEY: the line where the key is written, when the file's text shows it.
    where = re.escape(f"{directory / 'function.toml'}") + r"(:\d+)?: " + re.escape(f"{key}: ")
    assert re.match(where, message), message
    for fragment in says:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return err.value


def test_every_key_is_parsed(tmp_path: Path) -> None:
    spec = load_function(function_dir(tmp_path, EVERY_KEY))
    assert spec.reserved_concurrency == 5
    assert spec.kms_key_arn == KEY and spec.code_signing_config_arn == CSC
    assert spec.managed_policies == ("arn:aws:iam::123456789012:policy/team/orders-read",)
    assert spec.statements == (
        Statement("Allow", ("dynamodb:PutItem", "dynamodb:GetItem"), (TABLE,)),
        Statement("Allow", ("xray:PutTraceSegments",), ("*",), allow_wildcard=True))
    assert spec.sqs == SqsSource(QUEUE, 50, 2, True)


def test_defaults_leave_everything_off(tmp_path: Path) -> None:
    spec = load_function(function_dir(tmp_path, BASE))
    assert (spec.reserved_concurrency, spec.kms_key_arn, spec.code_signing_config_arn) == (None, None, None)
    assert spec.managed_policies == () and spec.statements == () and spec.sqs is None


def test_sqs_defaults_report_batch_item_failures(tmp_path: Path) -> None:
    spec = load_function(function_dir(tmp_path, BASE + f'[sqs]\nqueue_arn = "{QUEUE}"\n'))
    assert spec.sqs == SqsSource(QUEUE, batch_size=10, maximum_batching_window=0, report_batch_item_failures=True)


@pytest.mark.parametrize(("line", "key", "says"), [
    ("reserved_concurrency = -1", "reserved_concurrency", "from 0 to"),
    ("reserved_concurrency = 2.5", "reserved_concurrency", "integer"),
    ("reserved_concurrency = true", "reserved_concurrency", "integer"),
    ('reserved_concurrency = "5"', "reserved_concurrency", "integer"),
    ('kms_key_arn = "alias/orders"', "kms_key_arn", "not a KMS key ARN"),
    ('kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/orders"', "kms_key_arn", "alias is not accepted"),
    ('code_signing_config_arn = "csc-123"', "code_signing_config_arn", "not a code signing config ARN"),
    ('managed_policies = "arn:aws:iam::aws:policy/ReadOnlyAccess"', "managed_policies", "list of IAM policy ARNs"),
    ('managed_policies = ["ReadOnlyAccess"]', "managed_policies", "not an IAM policy ARN"),
    ('managed_policies = ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]', "managed_policies",
     "attached by layersmith already"),
    ('managed_policies = ["arn:aws:iam::aws:policy/a/P", "arn:aws:iam::123456789012:policy/P"]', "managed_policies",
     "two policies named 'P'"),
    ('statements = "s3:GetObject"', "statements", "[[statements]]"),
])
def test_bad_scalar_values(tmp_path: Path, line: str, key: str, says: str) -> None:
    spec_fails(tmp_path, f"{BASE}{line}\n", key, says)


def statement(body: str) -> str:
    return f"{BASE}[[statements]]\n{body}\n"


@pytest.mark.parametrize(("body", "key", "says"), [
    ('actions = ["s3:GetObject"]\nresources = ["*"]', "statements[0].resources", "allow_wildcard = true"),
    (f'actions = ["*"]\nresources = ["{TABLE}"]', "statements[0].actions", "every action"),
    (f'actions = ["*:*"]\nresources = ["{TABLE}"]', "statements[0].actions", "every action"),
    (f'actions = ["GetObject"]\nresources = ["{TABLE}"]', "statements[0].actions", "not an IAM action"),
    (f'actions = []\nresources = ["{TABLE}"]', "statements[0].actions", "non-empty list"),
    ('actions = ["s3:GetObject"]', "statements[0].resources", "non-empty list"),
    ('actions = ["s3:GetObject"]\nresources = ["my-bucket"]', "statements[0].resources", "not a resource ARN"),
    (f'effect = "allow"\nactions = ["s3:GetObject"]\nresources = ["{TABLE}"]', "statements[0].effect", "\"Allow\""),
    (f'actions = ["s3:GetObject"]\nresources = ["{TABLE}"]\nallow_wildcard = "yes"', "statements[0].allow_wildcard",
     "true or false"),
    (f'action = ["s3:GetObject"]\nresources = ["{TABLE}"]', "statements[0].action", "unknown key"),
])
def test_bad_statements(tmp_path: Path, body: str, key: str, says: str) -> None:
    spec_fails(tmp_path, statement(body), key, says)


def test_wildcard_inside_an_arn_is_not_a_bare_star(tmp_path: Path) -> None:
    spec = load_function(function_dir(tmp_path, statement(
        'actions = ["s3:GetObject"]\nresources = ["arn:aws:s3:::orders-bucket/*"]')))
    assert spec.statements[0].resources == ("arn:aws:s3:::orders-bucket/*",)


@pytest.mark.parametrize(("body", "key", "says"), [
    ('queue_arn = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"', "sqs.queue_arn", "not an SQS queue ARN"),
    (f'queue_arn = "{QUEUE}"\nbatch_size = 0', "sqs.batch_size", "from 1 to 10000"),
    (f'queue_arn = "{QUEUE}"\nbatch_size = 10001\nmaximum_batching_window = 1', "sqs.batch_size", "from 1 to 10000"),
    (f'queue_arn = "{QUEUE}"\nbatch_size = 11', "sqs.maximum_batching_window", "at least 1 second"),
    (f'queue_arn = "{QUEUE}"\nmaximum_batching_window = 301', "sqs.maximum_batching_window", "from 0 to 300"),
    (f'queue_arn = "{QUEUE}.fifo"\nbatch_size = 11', "sqs.batch_size", "11 is over 10, the most Lambda takes at once "
     "from a FIFO queue (queue_arn ends in .fifo; a standard queue allows up to 10,000); set batch_size to 10 or less"),
    (f'queue_arn = "{QUEUE}.fifo"\nbatch_size = 0', "sqs.batch_size", "from 1 to 10000"),
    (f'queue_arn = "{QUEUE}.fifo"\nmaximum_batching_window = 1', "sqs.maximum_batching_window",
     "no batching window for a FIFO queue"),
    (f'queue_arn = "{QUEUE}"\nreport_batch_item_failures = 1', "sqs.report_batch_item_failures", "true or false"),
    (f'queue = "{QUEUE}"', "sqs.queue", "unknown key"),
])
def test_bad_sqs(tmp_path: Path, body: str, key: str, says: str) -> None:
    spec_fails(tmp_path, f"{BASE}[sqs]\n{body}\n", key, says)


def test_sqs_must_be_a_table(tmp_path: Path) -> None:
    spec_fails(tmp_path, f'{BASE}sqs = "{QUEUE}"\n', "sqs", "must be a table")


def test_unknown_key_lists_the_new_ones(tmp_path: Path) -> None:
    spec_fails(tmp_path, f"{BASE}reserved_concurrent_executions = 5\n", "reserved_concurrent_executions",
               "reserved_concurrency", "statements", "sqs")


# --- per-stack overrides ---------------------------------------------------------------------------

@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "layers").mkdir(parents=True)
    function_dir(root, BASE + "[sqs]\nbatch_size = 10\nmaximum_batching_window = 3\n", "orders")
    function_dir(root, BASE + f'kms_key_arn = "{KEY}"\n', "report")
    return root


def parse(project: Path, functions: Any, region: str = "eu-west-1") -> Any:
    return parse_stack_config({"aws:region": region, "layersmith:publish": [], "layersmith:functions": functions},
                              project="p", stack="test", path=project / "Pulumi.test.yaml",
                              layers=load_layers(project), functions=load_functions(project))


def config_fails(project: Path, functions: Any, key: str, *says: str, region: str = "eu-west-1") -> None:
    with pytest.raises(ConfigError) as err:
        parse(project, functions, region)
    message = str(err.value)
    assert err.value.exit_code == 2 and "\n" not in message
    assert message.startswith(f"Pulumi.test.yaml: layersmith:{key}: "), message
    for fragment in says:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_a_stack_sets_the_queue_and_concurrency(proj: Path) -> None:
    cfg = parse(proj, {"orders": {"reserved_concurrency": 20, "sqs": {"queue_arn": QUEUE, "batch_size": 25}}})
    specs = {name: spec for name, spec in cfg.overrides}
    assert specs["orders"].reserved_concurrency == 20
    # merged key by key over function.toml's [sqs]: the batching window stays function.toml's 3 s
    assert specs["orders"].sqs == SqsSource(QUEUE, batch_size=25, maximum_batching_window=3)
    assert specs["report"].kms_key_arn == KEY  # not overridden: function.toml's value
    only_toml = load_functions(proj)["orders"]
    assert cfg.function_spec(only_toml).reserved_concurrency == 20


def test_without_overrides_the_spec_is_function_tomls(proj: Path) -> None:
    cfg = parse(proj, None)
    assert cfg.function_spec(load_functions(proj)["orders"]) == load_functions(proj)["orders"]


@pytest.mark.parametrize(("functions", "key", "says"), [
    (["orders"], "functions", "must map function names"),
    ({"nope": {}}, "functions.nope", "unknown function"),
    ({"orders": {"reserved_concurency": 5}}, "functions.orders.reserved_concurency", "unknown key"),
    ({"orders": {"memory": 512}}, "functions.orders.memory", "the rest lives in function.toml"),
    ({"orders": {"reserved_concurrency": -1}}, "functions.orders.reserved_concurrency", "from 0 to"),
    ({"orders": {"kms_key_arn": "alias/x"}}, "functions.orders.kms_key_arn", "not a KMS key ARN"),
    ({"orders": {"code_signing_config_arn": "x"}}, "functions.orders.code_signing_config_arn", "code signing"),
    ({"orders": {"sqs": {"queue_arn": "orders"}}}, "functions.orders.sqs.queue_arn", "not an SQS queue ARN"),
    ({"orders": {"sqs": {"queue_arn": QUEUE, "batch_size": 11, "maximum_batching_window": 0}}},
     "functions.orders.sqs.maximum_batching_window", "at least 1 second"),
    ({"orders": {"sqs": {"queue_arn": QUEUE.replace("eu-west-1", "us-east-1")}}}, "functions.orders.sqs.queue_arn",
     "is in us-east-1 but this stack deploys to eu-west-1"),
    ({"orders": {"kms_key_arn": KEY.replace("eu-west-1", "us-east-1")}}, "functions.orders.kms_key_arn",
     "only from the function's own region"),
])
def test_bad_overrides(proj: Path, functions: Any, key: str, says: str) -> None:
    config_fails(proj, functions, key, says)


def test_a_function_toml_arn_in_another_region_names_function_toml(proj: Path) -> None:
    with pytest.raises(SpecError) as err:
        parse(proj, None, region="us-east-1")
    message = str(err.value)
    assert message.startswith(f"{proj / 'functions/report/function.toml'}: kms_key_arn: is in eu-west-1"), message
    assert "layersmith:functions.report.kms_key_arn" in message


def test_an_override_for_a_function_the_stack_does_not_deploy(proj: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_stack_config({"aws:region": "eu-west-1", "layersmith:publish": [], "layersmith:deploy": ["report"],
                            "layersmith:functions": {"orders": {"reserved_concurrency": 1}}},
                           project="p", stack="test", path=proj / "Pulumi.test.yaml",
                           layers=load_layers(proj), functions=load_functions(proj))
    assert "layersmith:functions.orders: this stack does not deploy that function" in str(err.value)
