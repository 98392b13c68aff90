"""Sales totals per region/product/month, computed with pandas from the data-science layer."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
from sales_input import InvalidQuery, SalesQuery, parse_query
from shared_monitoring import Monitor
from shared_utils import EventError, error_response, get_str, json_response

BUNDLED_CSV = Path(__file__).with_name("sales.csv")
DEFAULT_GROUP_BY = get_str("DEFAULT_GROUP_BY", "region", choices=("region", "product", "month"))
monitor = Monitor("sales-report")


def load_frame(query: SalesQuery) -> pd.DataFrame:
    if query.rows is None:
        frame = pd.read_csv(BUNDLED_CSV, dtype={"date": str, "region": str, "product": str})
    else:
        frame = pd.DataFrame([asdict(row) for row in query.rows])
    frame["month"] = frame["date"].str.slice(0, 7)
    frame["revenue"] = frame["quantity"] * frame["unit_price"]
    return frame


def summarise(frame: pd.DataFrame, group_by: str) -> dict[str, Any]:
    grouped = (frame.groupby(group_by, sort=True)
               .agg(orders=("revenue", "size"), quantity=("quantity", "sum"), revenue=("revenue", "sum"))
               .reset_index())
    # int()/float()/round(): plain JSON numbers, money to the cent, never numpy scalars.
    groups = [{group_by: str(rec[group_by]), "orders": int(rec["orders"]), "quantity": int(rec["quantity"]),
               "revenue": round(float(rec["revenue"]), 2)}
              for rec in grouped.to_dict(orient="records")]
    totals = {"orders": len(frame), "quantity": int(frame["quantity"].sum()),
              "revenue": round(float(frame["revenue"].sum()), 2)}
    return {"group_by": group_by, "groups": groups, "totals": totals}


@monitor
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        query = parse_query(event, DEFAULT_GROUP_BY)
    except (EventError, InvalidQuery) as exc:
        if event.get("version") == "2.0":  # HTTP caller: a 400 it can act on
            monitor.logger.warning("Bad report request", extra={"reason": str(exc)})
            return error_response(400, str(exc))
        raise  # anything else is a wiring bug: fail loudly so it is retried and alarmed on
    report = summarise(load_frame(query), query.group_by)
    report["source"] = "request" if query.rows is not None else "bundled"
    monitor.add_metric("RowsAggregated", report["totals"]["orders"])
    return json_response(report) if query.via_http else report
