"""The events orders publishes. Each carries the order's whole state after the change."""

from __future__ import annotations

from typing import Any

from events.outbox import publish
from monolith.orders.models import Order

SOURCE = "monolith/orders"


def snapshot(order: Order) -> dict[str, Any]:
    return {
        "order_id": str(order.id), "customer_id": order.customer_id, "status": order.status,
        "currency": order.currency, "total": f"{order.total:.2f}",
        "lines": [
            {"sku": line.sku, "name": line.name, "unit_price": f"{line.unit_price:.2f}", "quantity": line.quantity,
             "line_total": f"{line.line_total:.2f}"}
            for line in order.lines.order_by("sku")
        ],
        "reservation_id": str(order.reservation_id) if order.reservation_id else None,
        "payment_id": str(order.payment_id) if order.payment_id else None,
    }  # fmt: skip


def order_changed(event_type: str, order: Order, **extra: Any) -> None:
    publish(
        type=event_type, source=SOURCE, aggregate_type="order", aggregate_id=str(order.id),
        data={**snapshot(order), **extra},
    )  # fmt: skip
