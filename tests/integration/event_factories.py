"""Envelopes valid for the catalogue, for the inbox and event-command tests."""

from __future__ import annotations

import uuid
from typing import Any

from events.catalogue import Catalogue
from events.envelope import Envelope


def envelope(
    event_type: str, data: dict[str, Any], *, subject: str, sequence: int, aggregate_type: str, version: int = 1
) -> Envelope:
    return Envelope.new(
        type=event_type, source="tests", subject=subject, data=data, aggregatetype=aggregate_type,
        sequence=sequence, dataschema=Catalogue.default().uri(event_type, version),
    )  # fmt: skip


def stock_adjusted(sequence: int, *, subject: str = "A:MUG", reason: str = "count", delta: Any = 1) -> Envelope:
    data = {"warehouse": "A", "sku": "MUG", "delta": delta, "reason": reason, "levels": []}
    return envelope("stock.adjusted", data, subject=subject, sequence=sequence, aggregate_type="stock")


def stock_released(sequence: int, *, subject: str = "A:MUG") -> Envelope:
    data = {
        "reservation_id": str(uuid.uuid4()),
        "reference": "order-1",
        "status": "released",
        "lines": [],
        "levels": [],
    }
    return envelope("stock.released", data, subject=subject, sequence=sequence, aggregate_type="stock")


def order_data(status: str, lines: list[tuple[str, int, str]]) -> dict[str, Any]:
    """``lines`` as (sku, quantity, line total)."""
    return {
        "order_id": str(uuid.uuid4()), "customer_id": 7, "status": status, "currency": "EUR", "total": "0.00",
        "lines": [
            {"sku": sku, "name": sku.title(), "unit_price": total, "quantity": quantity, "line_total": total}
            for sku, quantity, total in lines
        ],
        "reservation_id": None, "payment_id": str(uuid.uuid4()),
    }  # fmt: skip


def order_confirmed(sequence: int, *, subject: str = "order-1", sku: str = "MUG", quantity: int = 1) -> Envelope:
    data = order_data("confirmed", [(sku, quantity, "12.50")])
    return envelope("order.confirmed", data, subject=subject, sequence=sequence, aggregate_type="order")


def body(event: Envelope) -> str:
    return event.to_json().decode()
