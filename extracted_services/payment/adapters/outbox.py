"""The payment service's events: the same types and data as ``monolith.payments.published``, with this
service's source, written to the outbox in the caller's transaction."""

from __future__ import annotations

from events.envelope import Envelope
from events.outbox import publish
from extracted_services.payment.domain import PaymentEvent

__all__ = ["AGGREGATE_TYPE", "SOURCE", "publish_payment_event"]

SOURCE = "payment-service"
AGGREGATE_TYPE = "payment"


def publish_payment_event(event: PaymentEvent) -> Envelope:
    return publish(
        type=event.type, source=SOURCE, aggregate_type=AGGREGATE_TYPE, aggregate_id=str(event.payment_id),
        data=event.data,
    )  # fmt: skip
