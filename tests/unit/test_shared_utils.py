"""shared_utils (the portable `utils` layer), imported from its source dir as Lambda would see it."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

LAYER_SRC = Path(__file__).resolve().parents[2] / "layers" / "utils" / "src"
if str(LAYER_SRC) not in sys.path:
    sys.path.insert(0, str(LAYER_SRC))

import shared_utils as su  # noqa: E402
from shared_utils import (  # noqa: E402
    EventError,
    InvalidSetting,
    MissingSetting,
    RetryPolicy,
    call_with_retry,
    get_bool,
    get_int,
    get_str,
    retry,
)

# --- sample events (shapes from the AWS Lambda developer guide) -----------------------------------

HTTP_EVENT: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "POST /orders/{id}",
    "rawPath": "/orders/42",
    "rawQueryString": "expand=items&tag=a,b",
    "cookies": ["session=abc"],
    "headers": {"Content-Type": "application/json", "x-request-source": "test"},
    "queryStringParameters": {"expand": "items", "tag": "a,b"},
    "pathParameters": {"id": "42"},
    "requestContext": {
        "accountId": "123456789012",
        "http": {"method": "post", "path": "/orders/42", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7"},
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": "POST /orders/{id}",
    },
    "body": '{"qty": 3, "name": "caf\\u00e9"}',
    "isBase64Encoded": False,
}

SQS_EVENT: dict[str, Any] = {"Records": [
    {"messageId": "m-1", "receiptHandle": "rh-1", "body": '{"n": 1}',
     "attributes": {"ApproximateReceiveCount": "2"},
     "messageAttributes": {"source": {"stringValue": "web", "dataType": "String"},
                           "blob": {"binaryValue": "AAE=", "dataType": "Binary"}},
     "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q"},
    {"messageId": "m-2", "receiptHandle": "rh-2", "body": "not json", "attributes": {},
     "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q"},
]}

S3_EVENT: dict[str, Any] = {"Records": [
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "eu-west-1",
     "eventTime": "2026-11-20T10:15:30.123Z",
     "s3": {"bucket": {"name": "media"},
            "object": {"key": "photos/my+summer%282026%29.jpg", "size": 1024, "eTag": "e1", "versionId": "v1"}}},
    {"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
     "s3": {"bucket": {"name": "media"}, "object": {"key": "old.txt"}}},
]}

EB_EVENT: dict[str, Any] = {
    "version": "0", "id": "ev-1", "detail-type": "Order Placed", "source": "com.acme.orders",
    "account": "123456789012", "time": "2026-11-20T06:00:00Z", "region": "eu-west-1",
    "resources": ["arn:aws:events:eu-west-1:123456789012:rule/r"], "detail": {"order_id": "o-1"},
}


def _without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    clone = copy.deepcopy(event)
    target = clone
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return clone


def test_package_exports_version_and_public_api() -> None:
    assert su.__version__ == "0.2.0"
    for name in su.__all__:
        assert hasattr(su, name), name


# --- HTTP API -------------------------------------------------------------------------------------

def test_http_event_is_parsed_into_a_request() -> None:
    req = su.parse_http_event(HTTP_EVENT)
    assert req.method == "POST"
    assert req.path == "/orders/42"
    assert req.route_key == "POST /orders/{id}"
    assert dict(req.headers) == {"content-type": "application/json", "x-request-source": "test"}
    assert req.header("Content-Type") == "application/json"
    assert dict(req.query) == {"expand": "items", "tag": "a,b"}
    assert dict(req.path_parameters) == {"id": "42"}
    assert req.request_id == "JKJaXmPLvHcESHA="
    assert req.source_ip == "203.0.113.7"
    assert req.cookies == ("session=abc",)
    assert req.json() == {"qty": 3, "name": "café"}


def test_http_records_are_immutable() -> None:
    req = su.parse_http_event(HTTP_EVENT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.method = "GET"  # type: ignore[misc]
    with pytest.raises(TypeError):
        req.headers["x"] = "y"  # type: ignore[index]


def test_http_base64_body_is_decoded() -> None:
    event = copy.deepcopy(HTTP_EVENT)
    event["body"] = base64.b64encode("ünïcode".encode()).decode()
    event["isBase64Encoded"] = True
    req = su.parse_http_event(event)
    assert req.body == "ünïcode".encode()
    assert req.text == "ünïcode"


def test_http_invalid_base64_is_an_event_error() -> None:
    event = copy.deepcopy(HTTP_EVENT)
    event["body"], event["isBase64Encoded"] = "%%%not-base64", True
    with pytest.raises(EventError, match="isBase64Encoded but is not valid base64"):
        su.parse_http_event(event)


def test_http_event_without_body_query_or_headers() -> None:
    event = _without(_without(_without(HTTP_EVENT, "body"), "queryStringParameters"), "headers")
    req = su.parse_http_event(event)
    assert req.body == b""
    assert dict(req.query) == {} and dict(req.headers) == {}
    with pytest.raises(EventError, match="body is empty, expected JSON"):
        req.json()


def test_http_invalid_json_body_names_the_position() -> None:
    event = copy.deepcopy(HTTP_EVENT)
    event["body"] = '{"qty": }'
    with pytest.raises(EventError, match=r"body is not valid JSON .*line 1 column 9"):
        su.parse_http_event(event).json()


@pytest.mark.parametrize(("path", "missing"), [
    (("requestContext", "http", "method"), "requestContext.http.method"),
    (("requestContext", "requestId"), "requestContext.requestId"),
    (("requestContext",), "requestContext"),
])
def test_http_missing_fields_are_named(path: tuple[str, ...], missing: str) -> None:
    with pytest.raises(EventError) as info:
        su.parse_http_event(_without(HTTP_EVENT, *path))
    assert str(info.value) == f"API Gateway HTTP API event: missing '{missing}'"
    assert isinstance(info.value, ValueError)


def test_http_v1_payload_is_refused_with_a_hint() -> None:
    event = copy.deepcopy(HTTP_EVENT)
    event["version"] = "1.0"
    with pytest.raises(EventError, match=r"only payload format '2\.0'"):
        su.parse_http_event(event)


def test_non_mapping_event_is_an_event_error() -> None:
    with pytest.raises(EventError, match="the event must be an object, got list"):
        su.parse_http_event([])


# --- SQS ------------------------------------------------------------------------------------------

def test_sqs_batch_is_parsed_in_order() -> None:
    first, second = su.parse_sqs_event(SQS_EVENT)
    assert (first.message_id, first.receipt_handle, first.body) == ("m-1", "rh-1", '{"n": 1}')
    assert first.attributes["ApproximateReceiveCount"] == "2"
    assert dict(first.message_attributes) == {"source": "web"}  # binary attributes are dropped
    assert first.event_source_arn == "arn:aws:sqs:eu-west-1:123456789012:q"
    assert first.json() == {"n": 1}
    assert second.message_id == "m-2"
    with pytest.raises(EventError, match="SQS event: message m-2 body is not valid JSON"):
        second.json()


def test_sqs_missing_message_id_names_the_record() -> None:
    with pytest.raises(EventError) as info:
        su.parse_sqs_event(_without(SQS_EVENT, "Records", 1, "messageId"))  # type: ignore[arg-type]
    assert str(info.value) == "SQS Records[1] event: missing 'messageId'"


def test_sqs_parser_refuses_other_sources() -> None:
    with pytest.raises(EventError, match=r"'Records\[0\].eventSource' is 'aws:s3', expected 'aws:sqs'"):
        su.parse_sqs_event(S3_EVENT)
    with pytest.raises(EventError, match="SQS event: missing 'Records'"):
        su.parse_sqs_event({})


# --- S3 -------------------------------------------------------------------------------------------

def test_s3_keys_are_url_decoded_and_sizes_optional() -> None:
    created, removed = su.parse_s3_event(S3_EVENT)
    assert created.bucket == "media"
    assert created.key == "photos/my summer(2026).jpg"
    assert created.size == 1024
    assert created.event_name == "ObjectCreated:Put"
    assert (created.etag, created.version_id, created.region) == ("e1", "v1", "eu-west-1")
    assert created.event_time == datetime(2026, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)
    assert removed.size is None and removed.event_time is None and removed.key == "old.txt"


def test_s3_missing_bucket_is_named() -> None:
    with pytest.raises(EventError) as info:
        su.parse_s3_event(_without(S3_EVENT, "Records", 0, "s3", "bucket"))  # type: ignore[arg-type]
    assert str(info.value) == "S3 notification Records[0] event: missing 's3.bucket'"


def test_s3_negative_size_is_refused() -> None:
    event = copy.deepcopy(S3_EVENT)
    event["Records"][0]["s3"]["object"]["size"] = -1
    with pytest.raises(EventError, match="size' must be a non-negative integer"):
        su.parse_s3_event(event)


# --- EventBridge ----------------------------------------------------------------------------------

def test_eventbridge_event_is_parsed() -> None:
    ev = su.parse_eventbridge_event(EB_EVENT)
    assert (ev.id, ev.source, ev.detail_type) == ("ev-1", "com.acme.orders", "Order Placed")
    assert dict(ev.detail) == {"order_id": "o-1"}
    assert ev.time == datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    assert ev.resources == ("arn:aws:events:eu-west-1:123456789012:rule/r",)
    assert (ev.account, ev.region) == ("123456789012", "eu-west-1")


@pytest.mark.parametrize("key", ["detail-type", "source", "detail", "id"])
def test_eventbridge_missing_fields_are_named(key: str) -> None:
    with pytest.raises(EventError, match=f"^EventBridge event: missing '{key}'$"):
        su.parse_eventbridge_event(_without(EB_EVENT, key))


def test_eventbridge_bad_time_is_named() -> None:
    event = dict(EB_EVENT, time="yesterday")
    with pytest.raises(EventError, match="'time' is not an ISO 8601 timestamp: 'yesterday'"):
        su.parse_eventbridge_event(event)


@pytest.mark.parametrize(("event", "kind"), [
    (HTTP_EVENT, "http"), (SQS_EVENT, "sqs"), (S3_EVENT, "s3"), (EB_EVENT, "eventbridge"),
    ({}, None), ({"Records": []}, None), ("text", None),
])
def test_event_kind_sniffs_the_trigger(event: object, kind: str | None) -> None:
    assert su.event_kind(event) == kind


# --- responses ------------------------------------------------------------------------------------

class Colour(Enum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    when: date


def test_json_response_encodes_our_types() -> None:
    body = {"at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "price": Decimal("19.99"),
            "count": Decimal("3"), "point": Point(1, date(2026, 1, 2)), "colour": Colour.RED,
            "tags": {"b", "a"}, "name": "café"}
    resp = su.json_response(body, status=201, headers={"X-Trace": "t"})
    assert resp["statusCode"] == 201
    assert resp["headers"] == {"content-type": "application/json; charset=utf-8", "x-trace": "t"}
    assert resp["isBase64Encoded"] is False
    assert isinstance(resp["body"], str)
    assert json.loads(resp["body"]) == {
        "at": "2026-01-02T03:04:05+00:00", "price": 19.99, "count": 3,
        "point": {"x": 1, "when": "2026-01-02"}, "colour": "red", "tags": ["a", "b"],
        "name": "café"}
    assert '"count":3,' in resp["body"]  # an exact int, not 3.0


def test_json_default_refuses_unknown_types() -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        su.dumps({"x": object()})


def test_error_response_shape() -> None:
    resp = su.error_response(404, "no order o-9")
    assert resp["statusCode"] == 404
    assert json.loads(resp["body"]) == {"error": {"code": "NOT_FOUND", "message": "no order o-9"}}
    resp = su.error_response(422, "bad", code="INVALID_ORDER", details={"field": "qty"})
    assert json.loads(resp["body"]) == {"error": {"code": "INVALID_ORDER", "message": "bad",
                                                  "details": {"field": "qty"}}}
    assert json.loads(su.error_response(599, "x")["body"])["error"]["code"] == "ERROR"


def test_batch_item_failures_dedupes_in_order() -> None:
    assert su.batch_item_failures(["b", "a", "b"]) == {
        "batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "a"}]}
    assert su.batch_item_failures([]) == {"batchItemFailures": []}


# --- settings -------------------------------------------------------------------------------------

def test_required_setting_missing_names_the_variable() -> None:
    with pytest.raises(MissingSetting) as info:
        get_str("ORDERS_TABLE", env={})
    assert info.value.name == "ORDERS_TABLE"
    assert "ORDERS_TABLE is not set" in str(info.value)
    with pytest.raises(MissingSetting):
        get_str("ORDERS_TABLE", env={"ORDERS_TABLE": "   "})  # blank counts as missing


def test_settings_read_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LS_TEST_TABLE", " orders ")
    assert get_str("LS_TEST_TABLE") == "orders"
    monkeypatch.delenv("LS_TEST_TABLE")
    assert get_str("LS_TEST_TABLE", "fallback") == "fallback"
    assert get_str("LS_TEST_TABLE", None) is None


def test_str_choices() -> None:
    assert get_str("MODE", env={"MODE": "fast"}, choices={"fast", "slow"}) == "fast"
    with pytest.raises(InvalidSetting, match=r"MODE='turbo' is invalid: expected one of fast, slow"):
        get_str("MODE", env={"MODE": "turbo"}, choices={"fast", "slow"})


def test_int_settings() -> None:
    assert get_int("N", env={"N": "42"}) == 42
    assert get_int("N", 7, env={}) == 7
    with pytest.raises(InvalidSetting, match=r"N='4x' is invalid: expected an integer$"):
        get_int("N", env={"N": "4x"})
    with pytest.raises(InvalidSetting, match="expected an integer from 1 to 10"):
        get_int("N", env={"N": "11"}, minimum=1, maximum=10)
    with pytest.raises(InvalidSetting, match="expected an integer from 1 to inf"):
        get_int("N", env={"N": "0"}, minimum=1)


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("YES", True), ("1", True), ("on", True),
                                            ("False", False), ("no", False), ("0", False), ("off", False)])
def test_bool_settings(raw: str, value: bool) -> None:
    assert get_bool("DRY_RUN", env={"DRY_RUN": raw}) is value


def test_bool_typo_is_an_error_not_false() -> None:
    with pytest.raises(InvalidSetting) as info:
        get_bool("DRY_RUN", False, env={"DRY_RUN": "ture"})
    assert info.value.name == "DRY_RUN"
    assert isinstance(info.value, ValueError)
    assert get_bool("DRY_RUN", False, env={}) is False


# --- retry ----------------------------------------------------------------------------------------

class Flaky:
    """Fails `failures` times with `error`, then returns "ok"."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return "ok"


def test_retry_backs_off_exponentially_up_to_the_cap() -> None:
    sleeps: list[float] = []
    flaky = Flaky(4)
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=3.0, retry_on=(ConnectionError,))
    assert call_with_retry(flaky, policy, sleep=sleeps.append) == "ok"
    assert flaky.calls == 5
    assert sleeps == [0.5, 1.0, 2.0, 3.0]


def test_retry_gives_up_and_reraises_the_last_error() -> None:
    sleeps: list[float] = []
    flaky = Flaky(10)
    with pytest.raises(ConnectionError, match="failure 3") as info:
        call_with_retry(flaky, RetryPolicy(attempts=3, retry_on=(ConnectionError,)), sleep=sleeps.append)
    assert flaky.calls == 3
    assert sleeps == [0.1, 0.2]
    assert info.value.__notes__ == ["gave up after 3 attempt(s)"]


def test_retry_does_not_retry_other_exceptions() -> None:
    sleeps: list[float] = []
    flaky = Flaky(1, error=KeyError)
    with pytest.raises(KeyError):
        call_with_retry(flaky, RetryPolicy(retry_on=(ConnectionError,)), sleep=sleeps.append)
    assert flaky.calls == 1 and sleeps == []


def test_full_jitter_scales_each_delay() -> None:
    sleeps: list[float] = []
    seen: list[tuple[int, str, float]] = []
    call_with_retry(Flaky(2), RetryPolicy(attempts=3, base_delay=1.0, jitter=True), sleep=sleeps.append,
                    random=lambda: 0.25, on_retry=lambda n, exc, d: seen.append((n, str(exc), d)))
    assert sleeps == [0.25, 0.5]
    assert seen == [(1, "failure 1", 0.25), (2, "failure 2", 0.5)]


def test_retry_decorator_keeps_signature_and_arguments() -> None:
    sleeps: list[float] = []
    calls: list[tuple[int, str]] = []

    @retry(attempts=2, retry_on=(TimeoutError,), base_delay=0.01, sleep=sleeps.append)
    def fetch(n: int, *, label: str) -> str:
        """Docstring kept."""
        calls.append((n, label))
        if len(calls) == 1:
            raise TimeoutError
        return f"{label}{n}"

    assert fetch(3, label="x") == "x3"
    assert calls == [(3, "x"), (3, "x")]
    assert sleeps == [0.01]
    assert fetch.__name__ == "fetch" and fetch.__doc__ == "Docstring kept."


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"base_delay": -1}, {"multiplier": 0.5},
                                    {"retry_on": ()}])
def test_invalid_policies_are_refused_when_decorating(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        retry(**kwargs)
