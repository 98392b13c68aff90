"""`invoke --event KIND` (local/events.py) and `invoke --env-vars FILE` (local/env_vars.py), offline.

The sample events are compared with the fields SAM CLI's templates and the Lambda developer
guide's examples carry; the env-vars file with `sam local invoke`'s shape and precedence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from layersmith.errors import UserError
from layersmith.local.env_vars import parse_env_vars, read_env_vars
from layersmith.local.events import KINDS, sample_event
from layersmith.local.invoke import lambda_env
from layersmith.model import FunctionSpec

# -- sample events ---------------------------------------------------------------------------------------------


def delivered(kind: str, region: str, function: str = "f") -> Any:
    """The event as the handler receives it: through JSON, as invoke passes it on stdin."""
    return json.loads(json.dumps(sample_event(kind, region, function)))


def test_the_four_kinds() -> None:
    assert list(KINDS) == ["sqs", "s3", "apigw", "schedule"]


def test_sqs_is_one_message_of_a_queue_in_the_invokes_region() -> None:
    [record] = delivered("sqs", "eu-west-1", "app-dev-orders")["Records"]
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                           "eventSource", "eventSourceARN", "awsRegion"}
    assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:123456789012:MyQueue"
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert json.loads(record["body"])["function"] == "app-dev-orders"
    assert set(record["attributes"]) == {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                         "ApproximateFirstReceiveTimestamp"}


def test_s3_is_an_object_created_put_record() -> None:
    [record] = delivered("s3", "ap-southeast-2", "f")["Records"]
    assert (record["eventSource"], record["eventName"], record["awsRegion"]) == (
        "aws:s3", "ObjectCreated:Put", "ap-southeast-2")
    assert record["s3"]["bucket"] == {"name": "example-bucket", "ownerIdentity": {"principalId": "EXAMPLE"},
                                      "arn": "arn:aws:s3:::example-bucket"}
    assert set(record["s3"]["object"]) == {"key", "size", "eTag", "sequencer"}


def test_apigw_is_a_rest_api_proxy_request_payload_1() -> None:
    event = delivered("apigw", "us-west-2", "f")
    assert (event["httpMethod"], event["resource"], event["path"]) == ("POST", "/{proxy+}", "/path/to/resource")
    assert event["isBase64Encoded"] is False and json.loads(event["body"]) == {"test": "body"}
    context = event["requestContext"]
    assert context["stage"] == "prod" and context["accountId"] == "123456789012"
    assert event["headers"]["Host"] == "1234567890.execute-api.us-west-2.amazonaws.com"
    assert "version" not in event and "routeKey" not in event  # not the HTTP API's payload 2.0


def test_schedule_is_an_eventbridge_scheduled_event() -> None:
    event = delivered("schedule", "eu-central-1", "f")
    assert (event["source"], event["detail-type"], event["region"], event["detail"]) == (
        "aws.events", "Scheduled Event", "eu-central-1", {})
    assert event["resources"] == ["arn:aws:events:eu-central-1:123456789012:rule/ExampleRule"]


def test_arns_carry_the_regions_partition() -> None:
    [record] = delivered("sqs", "cn-north-1", "f")["Records"]
    assert record["eventSourceARN"].startswith("arn:aws-cn:sqs:cn-north-1:")
    assert delivered("apigw", "cn-north-1", "f")["headers"]["Host"].endswith(".amazonaws.com.cn")


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"--event: no sample event 'sns'; use one of sqs, s3, apigw, schedule"):
        sample_event("sns", "us-east-1", "f")


# -- --env-vars ------------------------------------------------------------------------------------------------

NAMES = ("orders", "app-dev-orders")  # the function's name, then its physical name


def env(data: object) -> dict[str, str]:
    return parse_env_vars(json.dumps(data), Path("env.json"), NAMES)


def test_the_functions_own_object_overrides_parameters_key_by_key() -> None:
    assert env({"Parameters": {"TABLE": "global", "STAGE": "dev"}, "orders": {"TABLE": "own"},
                "other": {"TABLE": "not mine"}}) == {"TABLE": "own", "STAGE": "dev"}


def test_the_name_wins_over_the_physical_name_and_either_addresses_the_function() -> None:
    assert env({"orders": {"WHO": "name"}, "app-dev-orders": {"WHO": "physical"}}) == {"WHO": "name"}
    assert env({"app-dev-orders": {"WHO": "physical"}}) == {"WHO": "physical"}
    # SAM's `or`: an empty object for the name falls through to the next key
    assert env({"orders": {}, "app-dev-orders": {"WHO": "physical"}}) == {"WHO": "physical"}
    assert env({"Parameters": {"WHO": "all"}}) == {"WHO": "all"}
    assert env({}) == {}


def test_values_are_stringified_as_sam_does() -> None:
    assert env({"orders": {"ON": True, "OFF": False, "NN": 3, "X1": 1.5}}) == {
        "ON": "true", "OFF": "false", "NN": "3", "X1": "1.5"}


@pytest.mark.parametrize(("data", "where", "says"), [
    ([], "--env-vars", "must be a JSON object"),
    ({"orders": ["A=1"]}, "orders", "must be an object of variable names to values"),
    ({"other": "x"}, "other", "must be an object"),  # every block is checked, as SAM checks them
    ({"Parameters": {"TABLE": None}}, "Parameters.TABLE", "null must be a string, number or boolean"),
    ({"orders": {"TABLE": {"a": 1}}}, "orders.TABLE", "must be a string, number or boolean"),
    ({"orders": {"1ABC": "x"}}, "orders.1ABC", "is not a Lambda environment variable name"),
    ({"orders": {"A": "x"}}, "orders.A", "at least one letter"),  # Lambda's key pattern needs two characters
    ({"orders": {"LAYERSMITH_TIMEOUT": "1"}}, "orders.LAYERSMITH_TIMEOUT", "layersmith's own"),
])
def test_a_wrong_shape_names_the_file_and_the_key(data: object, where: str, says: str) -> None:
    with pytest.raises(UserError) as raised:
        env(data)
    assert raised.value.render().startswith(f"env.json: {where}: ") and says in raised.value.render()


def test_a_file_that_is_not_json_or_not_there(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{"orders": {"A": 1}')
    with pytest.raises(UserError, match=r"env\.json: --env-vars: is not JSON \(Expecting ','"):
        read_env_vars(path, NAMES)
    with pytest.raises(UserError, match=r"missing\.json: --env-vars: cannot read the file \(No such file"):
        read_env_vars(tmp_path / "missing.json", NAMES)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(UserError, match="is not UTF-8"):
        read_env_vars(path, NAMES)


def test_the_file_wins_over_function_toml_and_lambdas_own_variables(tmp_path: Path) -> None:
    fn = FunctionSpec(name="orders", directory=tmp_path, handler="handler.handler", runtime="python3.11",
                      architecture="x86_64", layers=(), memory=128, timeout=3,
                      environment=(("STAGE", "toml"), ("TABLE", "toml")))
    out = lambda_env(fn, "local-orders", "us-east-1", "/task", "/opt",
                     {"TABLE": "file", "AWS_REGION": "eu-west-1"})
    assert (out["STAGE"], out["TABLE"], out["AWS_REGION"]) == ("toml", "file", "eu-west-1")
    assert lambda_env(fn, "local-orders", "us-east-1", "/task", "/opt")["TABLE"] == "toml"
