"""The events payments publishes. Each carries the payment's whole state after the change."""

from __future__ import annotations

from typing import Any

from events.outbox import publish
from monolith.payments.models import Payment

SOURCE = "monolith/payments"


def snapshot(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": str(payment.id), "customer_id": payment.customer_id,
        "order_id": str(payment.order_id) if payment.order_id else None, "amount": f"{payment.amount:.2f}",
        "currency": payment.currency, "status": payment.status, "captured_amount": f"{payment.captured_amount:.2f}",
        "refunded_amount": f"{payment.refunded_amount:.2f}",
    }  # fmt: skip


def payment_changed(event_type: str, payment: Payment, **extra: Any) -> None:
    publish(
        type=event_type, source=SOURCE, aggregate_type="payment", aggregate_id=str(payment.id),
        data={**snapshot(payment), **extra},
    )  # fmt: skip
