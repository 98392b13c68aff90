"""Responses in the shapes Lambda's callers expect.

API Gateway (HTTP API payload 2.0) wants `statusCode`, `headers` and a *string* `body`; returning
a dict body or a `Decimal` (what DynamoDB hands back for every number) makes API Gateway answer 500
with nothing in the logs but "Malformed Lambda proxy response". `dumps` knows our usual types.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from http import HTTPStatus
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def json_default(value: Any) -> Any:
    """`json.dumps(default=...)` hook for the types our handlers return."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        # DynamoDB returns every number as Decimal: integral ones stay exact ints, the rest floats.
        return int(value) if value == value.to_integral_value() else float(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)  # sorted: the same data always serialises the same way
    if isinstance(value, Mapping):
        return dict(value)  # e.g. the read-only MappingProxyType our event records use
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """Compact JSON with `json_default`; non-ASCII kept as is (the body is UTF-8)."""
    return json.dumps(value, default=json_default, separators=(",", ":"), ensure_ascii=False)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body."""
    merged = {"content-type": JSON_CONTENT_TYPE}
    merged.update({k.lower(): v for k, v in (headers or {}).items()})
    return {"statusCode": int(status), "headers": merged, "body": dumps(body), "isBase64Encoded": False}


def error_response(status: int, message: str, *, code: str | None = None, details: Any = None,
                   headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`{"error": {"code": "BAD_REQUEST", "message": ...}}`; the code defaults to the status phrase."""
    try:
        default_code = HTTPStatus(status).phrase.upper().replace(" ", "_").replace("-", "_")
    except ValueError:
        default_code = "ERROR"
    error: dict[str, Any] = {"code": code or default_code, "message": message}
    if details is not None:
        error["details"] = details
    return json_response({"error": error}, status=status, headers=headers)


def batch_item_failures(message_ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """SQS partial batch response: only these messages return to the queue.

    Needs `ReportBatchItemFailures` on the event source mapping; without it Lambda ignores the
    list and deletes the whole batch on success. An empty list means "all processed".
    """
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in dict.fromkeys(message_ids)]}
