from __future__ import annotations

import uuid

from monolith.core.errors import NotFound
from monolith.core.export import ExportPage, export_page
from monolith.payments import published
from monolith.payments.models import Payment


def payment_get(*, payment_id: uuid.UUID, customer_id: int | None = None) -> Payment:
    """A payment; with ``customer_id``, only that customer's (others are reported as not found)."""
    payments = Payment.objects.filter(pk=payment_id)
    if customer_id is not None:
        payments = payments.filter(customer_id=customer_id)
    payment = payments.first()
    if payment is None:
        raise NotFound("No such payment.", code="payment_not_found")
    return payment


def payment_export(*, after: uuid.UUID | None, limit: int) -> ExportPage:
    """One record per payment, shaped as the ``payment.*`` events' data."""
    return export_page(
        Payment.objects.all(), after=after, limit=limit, aggregate_type="payment", id_fields=("pk",),
        aggregate_id=str, document=published.snapshot,
    )  # fmt: skip
