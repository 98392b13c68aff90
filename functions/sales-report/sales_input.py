"""What the sales report is asked for, validated before pandas sees it (no pandas import here).

Accepted triggers:
- API Gateway HTTP API `POST /reports/sales` with `{"group_by": "region", "rows": [...]}`;
  `group_by` may also come from the query string;
- EventBridge (e.g. a schedule) with the same keys in `detail`.
Without `rows` the report runs on the CSV shipped next to the handler.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared_utils import EventError, event_kind, parse_eventbridge_event, parse_http_event

GROUPS = ("region", "product", "month")
MAX_ROWS = 10_000  # keeps one request well inside the function's memory and timeout


class InvalidQuery(ValueError):
    """The request is well-formed but asks for something we cannot report (-> 400)."""


@dataclass(frozen=True)
class Row:
    date: str  # YYYY-MM-DD
    region: str
    product: str
    quantity: int
    unit_price: float


@dataclass(frozen=True)
class SalesQuery:
    group_by: str
    rows: tuple[Row, ...] | None  # None: use the bundled CSV
    via_http: bool


def _row(raw: object, index: int) -> Row:
    if not isinstance(raw, Mapping):
        raise InvalidQuery(f"rows[{index}] must be an object")
    texts: dict[str, str] = {}
    for key in ("date", "region", "product"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InvalidQuery(f"rows[{index}].{key} must be a non-empty string")
        texts[key] = value.strip()
    if len(texts["date"]) != 10 or texts["date"][4] != "-" or texts["date"][7] != "-":
        raise InvalidQuery(f"rows[{index}].date must look like YYYY-MM-DD")
    quantity = raw.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise InvalidQuery(f"rows[{index}].quantity must be a non-negative integer")
    price = raw.get("unit_price")
    if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price) or price < 0:
        raise InvalidQuery(f"rows[{index}].unit_price must be a non-negative number")
    return Row(date=texts["date"], region=texts["region"], product=texts["product"],
               quantity=quantity, unit_price=float(price))


def _query(payload: Mapping[str, Any], group_by: object, via_http: bool, default_group: str) -> SalesQuery:
    group = group_by if group_by is not None else default_group
    if group not in GROUPS:
        raise InvalidQuery(f"group_by must be one of {', '.join(GROUPS)}, got {group!r}")
    raw_rows = payload.get("rows")
    if raw_rows is None:
        return SalesQuery(group_by=str(group), rows=None, via_http=via_http)
    if not isinstance(raw_rows, list) or not raw_rows:
        raise InvalidQuery("rows must be a non-empty list (or be left out to use the bundled data)")
    if len(raw_rows) > MAX_ROWS:
        raise InvalidQuery(f"{len(raw_rows)} rows is more than the limit of {MAX_ROWS}")
    return SalesQuery(group_by=str(group), rows=tuple(_row(r, i) for i, r in enumerate(raw_rows)),
                      via_http=via_http)


def parse_query(event: object, default_group: str = "region") -> SalesQuery:
    """The report request from an HTTP API or EventBridge event; EventError/InvalidQuery otherwise."""
    kind = event_kind(event)
    if kind == "http":
        request = parse_http_event(event)
        payload: Any = request.json() if request.body else {}
        if not isinstance(payload, Mapping):
            raise InvalidQuery("the body must be a JSON object")
        group = payload.get("group_by", request.query.get("group_by"))
        return _query(payload, group, True, default_group)
    if kind == "eventbridge":
        detail = parse_eventbridge_event(event).detail
        return _query(detail, detail.get("group_by"), False, default_group)
    raise EventError("sales-report", "expected an API Gateway HTTP API (2.0) or EventBridge event")
