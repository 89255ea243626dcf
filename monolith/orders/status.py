"""The order status pipeline, enforced here and nowhere else.

pending → confirmed → fulfilled, and pending | confirmed → cancelled. Fulfilled and cancelled are final.
"""

from __future__ import annotations

from typing import Any

from monolith.core.errors import Conflict
from monolith.orders import published
from monolith.orders.models import Order

S = Order.Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.FULFILLED, S.CANCELLED}),
    S.FULFILLED: frozenset(),
    S.CANCELLED: frozenset(),
}


class InvalidOrderTransition(Conflict):
    code = "invalid_order_transition"


def order_set_status(order: Order, status: str, **event_data: Any) -> Order:
    """Move ``order`` to ``status`` (saved, and ``order.<status>`` published), or raise and change nothing."""
    if status not in TRANSITIONS[order.status]:
        raise InvalidOrderTransition(
            f"A {order.status} order cannot become {status}.", details={"from": order.status, "to": status}
        )
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    published.order_changed(f"order.{status}", order, **event_data)
    return order
