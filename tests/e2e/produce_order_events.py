"""Publish a known stream of order events through the outbox (run as a process by the reliability tests).

For each of ORDERS orders: order.placed, then order.confirmed / order.cancelled alternating, ending confirmed.
The reporting consumer nets +1 unit of MUG per order, whatever the order of delivery across aggregates, and
its inbox shows whether each order's events were applied in sequence.

usage: python tests/e2e/produce_order_events.py ORDERS EVENTS_PER_ORDER [PAUSE_SECONDS_BETWEEN_ROUNDS]
"""

from __future__ import annotations

import os
import sys
import time
import uuid

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings")
django.setup()

from django.db import transaction  # noqa: E402

from events.outbox import publish  # noqa: E402

LINE = {"sku": "MUG", "name": "Mug", "unit_price": "1.00", "quantity": 1, "line_total": "1.00"}


def data(order_id: str, status: str) -> dict[str, object]:
    body: dict[str, object] = {
        "order_id": order_id, "customer_id": 1, "status": status, "currency": "EUR", "total": "1.00",
        "lines": [LINE], "reservation_id": None, "payment_id": str(uuid.UUID(int=1)),
    }  # fmt: skip
    if status == "cancelled":
        body["reason"] = "test"
    return body


def main(orders: int, per_order: int, pause: float) -> None:
    ids = [str(uuid.uuid4()) for _ in range(orders)]
    for step in range(per_order):
        # Interleave orders so each batch holds many aggregates, as real traffic does.
        with transaction.atomic():
            for order_id in ids:
                if step == 0:
                    event_type, status = "order.placed", "pending"
                elif step % 2:
                    event_type, status = "order.confirmed", "confirmed"
                else:
                    event_type, status = "order.cancelled", "cancelled"
                publish(type=event_type, source="monolith/orders", aggregate_type="order", aggregate_id=order_id,
                        data=data(order_id, status))  # fmt: skip
        time.sleep(pause)
    print(f"published {orders * per_order} events", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
