"""Ingest orders from an SQS batch, reporting only the bad messages back to the queue.

A partial batch response (`batchItemFailures`) keeps one poison message from sending the whole
batch back: the good orders are done, the bad ones return to the queue and, after the queue's
`maxReceiveCount`, move to its dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared_monitoring import Monitor
from shared_utils import EventError, SqsMessage, batch_item_failures, get_int, parse_sqs_event

# Read at init: a bad setting fails the first invocation with the variable's name.
MAX_ITEMS = get_int("MAX_ITEMS_PER_ORDER", 50, minimum=1, maximum=1000)
monitor = Monitor("orders")


class InvalidOrder(ValueError):
    """The message parsed but is not an order we can accept."""


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    lines: tuple[OrderLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0"))


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidOrder(f"'{key}' must be a non-empty string")
    return value


def _line(raw: object, index: int) -> OrderLine:
    if not isinstance(raw, Mapping):
        raise InvalidOrder(f"items[{index}] must be an object")
    quantity = raw.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidOrder(f"items[{index}].quantity must be a positive integer")
    try:
        # str() first: Decimal(19.99) would carry the float's binary error into the money.
        price = Decimal(str(raw.get("unit_price")))
    except InvalidOperation:
        raise InvalidOrder(f"items[{index}].unit_price must be a number") from None
    if not price.is_finite() or price < 0:
        raise InvalidOrder(f"items[{index}].unit_price must be a non-negative number")
    return OrderLine(sku=_text(raw, "sku"), quantity=quantity, unit_price=price)


def parse_order(message: SqsMessage) -> Order:
    data = message.json()
    if not isinstance(data, Mapping):
        raise InvalidOrder("the body must be a JSON object")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidOrder("'items' must be a non-empty list")
    if len(items) > MAX_ITEMS:
        raise InvalidOrder(f"{len(items)} items is more than MAX_ITEMS_PER_ORDER={MAX_ITEMS}")
    return Order(order_id=_text(data, "order_id"), customer_id=_text(data, "customer_id"),
                 lines=tuple(_line(item, i) for i, item in enumerate(items)))


def _is_fifo(message: SqsMessage) -> bool:
    return bool(message.event_source_arn and message.event_source_arn.endswith(".fifo"))


@monitor
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # A malformed envelope is not one bad message: raising lets Lambda retry the whole batch.
    messages = parse_sqs_event(event)
    failed: list[str] = []
    accepted = 0
    for message in messages:
        if failed and _is_fifo(message):
            # FIFO order: once one message fails, every later one must be retried after it.
            failed.append(message.message_id)
            continue
        try:
            order = parse_order(message)
        except (EventError, InvalidOrder) as exc:
            monitor.logger.warning("Rejected order message", extra={
                "message_id": message.message_id, "reason": str(exc),
                "receive_count": message.attributes.get("ApproximateReceiveCount")})
            failed.append(message.message_id)
            continue
        accepted += 1
        monitor.logger.info("Accepted order", extra={
            "order_id": order.order_id, "customer_id": order.customer_id,
            "lines": len(order.lines), "total": str(order.total)})
    monitor.add_metric("OrdersAccepted", accepted)
    monitor.add_metric("OrdersRejected", len(failed))
    return batch_item_failures(failed)
