"""The shipment service's events: the same types and data as ``monolith.shipments.published``, with this
service's source, written to the outbox in the caller's transaction."""

from __future__ import annotations

from django.db import connection

from events.envelope import Envelope
from events.outbox import publish
from extracted_services.shipment.domain import ShipmentEvent

__all__ = ["AGGREGATE_TYPE", "SOURCE", "continue_numbering", "publish_shipment_event"]

SOURCE = "shipment-service"
AGGREGATE_TYPE = "shipment"


def publish_shipment_event(event: ShipmentEvent) -> Envelope:
    return publish(
        type=event.type, source=SOURCE, aggregate_type=AGGREGATE_TYPE, aggregate_id=str(event.shipment_id),
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
