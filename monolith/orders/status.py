"""The order status pipeline, enforced here and nowhere else.

pending → confirmed → fulfilled, and pending | confirmed → cancelled. Fulfilled and cancelled are final.
"""

from __future__ import annotations

from monolith.core.errors import Conflict
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


def order_set_status(order: Order, status: str) -> Order:
    """Move ``order`` to ``status`` (saved), or raise InvalidOrderTransition and change nothing."""
    if status not in TRANSITIONS[order.status]:
        raise InvalidOrderTransition(
            f"A {order.status} order cannot become {status}.", details={"from": order.status, "to": status}
        )
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    return order
