from __future__ import annotations

import uuid

from django.db.models import QuerySet

from monolith.core.errors import NotFound
from monolith.orders.models import Order


def order_list(*, customer_id: int | None) -> QuerySet[Order]:
    orders = Order.objects.prefetch_related("lines")
    return orders if customer_id is None else orders.filter(customer_id=customer_id)


def order_get(*, order_id: uuid.UUID, customer_id: int | None) -> Order:
    """An order; with ``customer_id``, only that customer's — another customer's order is not found."""
    order = order_list(customer_id=customer_id).filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    return order
