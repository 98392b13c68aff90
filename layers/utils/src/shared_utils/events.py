"""Parse the event shapes our functions receive into small, frozen, typed records.

Handlers should not poke at `event["requestContext"]["http"]["method"]`: a typo there is a
`KeyError` at 3 a.m. with no hint of which event shape was expected. Every parser here checks the
shape once and raises `EventError` naming the event kind and the missing/invalid field.

Shapes follow the AWS payload documentation:
- API Gateway HTTP API, payload format 2.0 (`version: "2.0"`); repeated query parameters are
  already joined with commas by API Gateway, headers arrive lower-cased but we normalise anyway
  because Lambda function URLs and test tools do not always.
- SQS batch (`Records[*].eventSource == "aws:sqs"`).
- S3 notification (`Records[*].eventSource == "aws:s3"`); object keys are URL-encoded the way
  HTML forms are (`+` for space), hence `unquote_plus`.
- EventBridge (`detail-type`, `source`, `detail`, ...).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import unquote_plus

EventKind = Literal["http", "sqs", "s3", "eventbridge"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


class EventError(ValueError):
    """The event does not have the shape the handler expects; the message names the field."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind} event: {message}")
        self.kind = kind


# --- helpers ----------------------------------------------------------------------------------------

def _as_mapping(value: object, kind: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise EventError(kind, f"{where} must be an object, got {type(value).__name__}")
    return value


def _require(data: Mapping[str, Any], dotted: str, kind: str) -> Any:
    """Walk `a.b.c`; a missing or null step is reported with its full dotted path."""
    current: Any = data
    walked: list[str] = []
    for part in dotted.split("."):
        walked.append(part)
        if not isinstance(current, Mapping) or current.get(part) is None:
            raise EventError(kind, f"missing '{'.'.join(walked)}'")
        current = current[part]
    return current


def _require_str(data: Mapping[str, Any], dotted: str, kind: str) -> str:
    value = _require(data, dotted, kind)
    if not isinstance(value, str):
        raise EventError(kind, f"'{dotted}' must be a string, got {type(value).__name__}")
    return value


def _str_map(value: object, kind: str, where: str) -> Mapping[str, str]:
    """A string->string map (headers, query, attributes); `null` is how AWS sends "none"."""
    if value is None:
        return _EMPTY
    mapping = _as_mapping(value, kind, f"'{where}'")
    return MappingProxyType({str(k): str(v) for k, v in mapping.items()})


def _records(event: Mapping[str, Any], kind: str, source: str) -> list[Mapping[str, Any]]:
    records = _require(event, "Records", kind)
    if not isinstance(records, list):
        raise EventError(kind, "'Records' must be a list")
    out: list[Mapping[str, Any]] = []
    for index, record in enumerate(records):
        rec = _as_mapping(record, kind, f"'Records[{index}]'")
        actual = rec.get("eventSource")
        if actual != source:
            raise EventError(kind, f"'Records[{index}].eventSource' is {actual!r}, expected {source!r}")
        out.append(rec)
    return out


def _loads(text: str, kind: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventError(kind, f"{what} is not valid JSON ({exc.msg} at line {exc.lineno} "
                               f"column {exc.colno})") from None


# --- API Gateway HTTP API (payload 2.0) -----------------------------------------------------------

_HTTP = "API Gateway HTTP API"


@dataclass(frozen=True)
class HttpRequest:
    method: str  # upper-case, e.g. "POST"
    path: str  # the raw path, e.g. "/orders/42"
    route_key: str  # e.g. "POST /orders/{id}" or "$default"
    headers: Mapping[str, str]  # names lower-cased
    query: Mapping[str, str]  # repeated parameters arrive comma-joined
    path_parameters: Mapping[str, str]
    body: bytes  # base64 already decoded; b"" when there was no body
    request_id: str
    source_ip: str | None = None
    cookies: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise EventError(_HTTP, "body is not UTF-8 text") from None

    def json(self) -> Any:
        """The body parsed as JSON; an empty or invalid body is an `EventError` (-> 400)."""
        if not self.body:
            raise EventError(_HTTP, "body is empty, expected JSON")
        return _loads(self.text, _HTTP, "body")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def _decode_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise EventError(_HTTP, f"'body' must be a string, got {type(body).__name__}")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise EventError(_HTTP, "'body' is marked isBase64Encoded but is not valid base64") from None
    return body.encode("utf-8")


def parse_http_event(event: object) -> HttpRequest:
    """Parse an API Gateway HTTP API (payload format 2.0) or Lambda function URL event."""
    data = _as_mapping(event, _HTTP, "the event")
    version = data.get("version")
    if version != "2.0":
        raise EventError(_HTTP, f"'version' is {version!r}; only payload format '2.0' is supported "
                                "(set PayloadFormatVersion 2.0 on the integration)")
    http = _as_mapping(_require(data, "requestContext.http", _HTTP), _HTTP, "'requestContext.http'")
    headers = _str_map(data.get("headers"), _HTTP, "headers")
    cookies = data.get("cookies") or []
    if not isinstance(cookies, list):
        raise EventError(_HTTP, "'cookies' must be a list")
    return HttpRequest(
        method=_require_str(data, "requestContext.http.method", _HTTP).upper(),
        path=data.get("rawPath") or _require_str(data, "requestContext.http.path", _HTTP),
        route_key=str(data.get("routeKey") or "$default"),
        headers=MappingProxyType({k.lower(): v for k, v in headers.items()}),
        query=_str_map(data.get("queryStringParameters"), _HTTP, "queryStringParameters"),
        path_parameters=_str_map(data.get("pathParameters"), _HTTP, "pathParameters"),
        body=_decode_body(data),
        request_id=_require_str(data, "requestContext.requestId", _HTTP),
        source_ip=http.get("sourceIp"),
        cookies=tuple(str(c) for c in cookies),
    )


# --- SQS ------------------------------------------------------------------------------------------

_SQS = "SQS"


@dataclass(frozen=True)
class SqsMessage:
    message_id: str
    body: str
    receipt_handle: str
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # e.g. ApproximateReceiveCount
    message_attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # stringValue only
    event_source_arn: str | None = None

    def json(self) -> Any:
        return _loads(self.body, _SQS, f"message {self.message_id} body")


def _message_attributes(value: object, where: str) -> Mapping[str, str]:
    """SQS message attributes are typed objects; we keep the String/Number ones as strings."""
    if value is None:
        return _EMPTY
    mapping = _as_mapping(value, _SQS, where)
    out: dict[str, str] = {}
    for name, attr in mapping.items():
        if isinstance(attr, Mapping) and attr.get("stringValue") is not None:
            out[str(name)] = str(attr["stringValue"])
    return MappingProxyType(out)


def parse_sqs_event(event: object) -> tuple[SqsMessage, ...]:
    """The batch's messages, in delivery order (which partial batch responses refer to by id)."""
    data = _as_mapping(event, _SQS, "the event")
    messages: list[SqsMessage] = []
    for index, rec in enumerate(_records(data, _SQS, "aws:sqs")):
        where = f"Records[{index}]"
        messages.append(SqsMessage(
            message_id=_require_str(rec, "messageId", f"{_SQS} {where}"),
            body=_require_str(rec, "body", f"{_SQS} {where}"),
            receipt_handle=_require_str(rec, "receiptHandle", f"{_SQS} {where}"),
            attributes=_str_map(rec.get("attributes"), _SQS, f"{where}.attributes"),
            message_attributes=_message_attributes(rec.get("messageAttributes"),
                                                   f"'{where}.messageAttributes'"),
            event_source_arn=rec.get("eventSourceARN"),
        ))
    return tuple(messages)


# --- S3 notifications -----------------------------------------------------------------------------

_S3 = "S3 notification"


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str  # URL-decoded: "my photo.jpg", not "my+photo.jpg"
    size: int | None  # absent on ObjectRemoved events
    event_name: str  # e.g. "ObjectCreated:Put"
    etag: str | None = None
    version_id: str | None = None
    region: str | None = None
    event_time: datetime | None = None


def _parse_time(value: object, kind: str, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(kind, f"'{where}' must be an ISO 8601 string")
    try:
        return datetime.fromisoformat(value)  # 3.11+ accepts the trailing "Z" AWS sends
    except ValueError:
        raise EventError(kind, f"'{where}' is not an ISO 8601 timestamp: {value!r}") from None


def _s3_size(obj: Mapping[str, Any], where: str) -> int | None:
    size = obj.get("size")
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise EventError(_S3, f"'{where}.s3.object.size' must be a non-negative integer")
    return size


def parse_s3_event(event: object) -> tuple[S3Object, ...]:
    data = _as_mapping(event, _S3, "the event")
    objects: list[S3Object] = []
    for index, rec in enumerate(_records(data, _S3, "aws:s3")):
        where = f"Records[{index}]"
        kind = f"{_S3} {where}"
        obj = _as_mapping(_require(rec, "s3.object", kind), kind, "'s3.object'")
        objects.append(S3Object(
            bucket=_require_str(rec, "s3.bucket.name", kind),
            key=unquote_plus(_require_str(rec, "s3.object.key", kind)),
            size=_s3_size(obj, where),
            event_name=_require_str(rec, "eventName", kind),
            etag=obj.get("eTag"),
            version_id=obj.get("versionId"),
            region=rec.get("awsRegion"),
            event_time=_parse_time(rec.get("eventTime"), _S3, f"{where}.eventTime"),
        ))
    return tuple(objects)


# --- EventBridge ----------------------------------------------------------------------------------

_EB = "EventBridge"


@dataclass(frozen=True)
class EventBridgeEvent:
    id: str
    source: str
    detail_type: str
    detail: Mapping[str, Any]
    time: datetime | None
    account: str | None = None
    region: str | None = None
    resources: tuple[str, ...] = ()


def parse_eventbridge_event(event: object) -> EventBridgeEvent:
    data = _as_mapping(event, _EB, "the event")
    detail = data.get("detail")
    if detail is None:
        raise EventError(_EB, "missing 'detail'")
    resources = data.get("resources") or []
    if not isinstance(resources, list):
        raise EventError(_EB, "'resources' must be a list")
    return EventBridgeEvent(
        id=_require_str(data, "id", _EB),
        source=_require_str(data, "source", _EB),
        detail_type=_require_str(data, "detail-type", _EB),
        detail=MappingProxyType(dict(_as_mapping(detail, _EB, "'detail'"))),
        time=_parse_time(data.get("time"), _EB, "time"),
        account=data.get("account"),
        region=data.get("region"),
        resources=tuple(str(r) for r in resources),
    )


# --- dispatch -------------------------------------------------------------------------------------

def event_kind(event: object) -> EventKind | None:
    """Best-effort sniffing for handlers that accept several triggers; None when unrecognised."""
    if not isinstance(event, Mapping):
        return None
    if "requestContext" in event and event.get("version") == "2.0":
        return "http"
    if "detail-type" in event and "source" in event:
        return "eventbridge"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        source = records[0].get("eventSource")
        if source == "aws:sqs":
            return "sqs"
        if source == "aws:s3":
            return "s3"
    return None
