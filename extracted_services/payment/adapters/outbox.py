"""The payment service's events: the same types and data as ``monolith.payments.published``, with this
service's source, written to the outbox in the caller's transaction."""

from __future__ import annotations

from django.db import connection

from events.envelope import Envelope
from events.outbox import publish
from extracted_services.payment.domain import PaymentEvent

__all__ = ["AGGREGATE_TYPE", "SOURCE", "continue_numbering", "publish_payment_event"]

SOURCE = "payment-service"
AGGREGATE_TYPE = "payment"


def publish_payment_event(event: PaymentEvent) -> Envelope:
    return publish(
        type=event.type, source=SOURCE, aggregate_type=AGGREGATE_TYPE, aggregate_id=str(event.payment_id),
        data=event.data,
    )  # fmt: skip


def continue_numbering(aggregate_id: str, sequence: int) -> None:
    """Raise this database's event sequence of the aggregate to ``sequence``, never lower it: after a replicated
    document, the next event this service publishes for the record continues the monolith's numbering."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_aggregatesequence (aggregate_type, aggregate_id, last_sequence) VALUES (%s, %s, %s) "
            "ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET last_sequence = CASE "
            "WHEN events_aggregatesequence.last_sequence < excluded.last_sequence "
            "THEN excluded.last_sequence ELSE events_aggregatesequence.last_sequence END",
            [AGGREGATE_TYPE, aggregate_id, sequence],
        )
