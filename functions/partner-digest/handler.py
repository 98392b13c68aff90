"""Summarise an EventBridge event from the partner's order system into a short digest.

Runs in a consumer account on the platform team's shared layers (utils + monitoring).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared_monitoring import Monitor
from shared_utils import parse_eventbridge_event

monitor = Monitor("partner-digest")


@monitor
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parse_eventbridge_event(event)
    detail = parsed.detail if isinstance(parsed.detail, Mapping) else {}
    items = detail.get("items", [])
    return {
        "source": parsed.source,
        "type": parsed.detail_type,
        "orders": len(items),
        "units": sum(int(item.get("quantity", 0)) for item in items),
    }
