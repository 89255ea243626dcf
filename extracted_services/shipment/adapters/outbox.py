"""The shipment service's events: the same types and data as ``monolith.shipments.published``, with this
service's source, written to the outbox in the caller's transaction."""

from __future__ import annotations

from events.envelope import Envelope
from events.outbox import publish
from extracted_services.shipment.domain import ShipmentEvent

__all__ = ["AGGREGATE_TYPE", "SOURCE", "publish_shipment_event"]

SOURCE = "shipment-service"
AGGREGATE_TYPE = "shipment"


def publish_shipment_event(event: ShipmentEvent) -> Envelope:
    return publish(
        type=event.type, source=SOURCE, aggregate_type=AGGREGATE_TYPE, aggregate_id=str(event.shipment_id),
        data=event.data,
    )  # fmt: skip
