"""The events shipments publishes. Each carries the shipment's whole state after the change."""

from __future__ import annotations

from events.outbox import publish
from monolith.shipments.models import Shipment

SOURCE = "monolith/shipments"


def shipment_changed(event_type: str, shipment: Shipment) -> None:
    publish(
        type=event_type, source=SOURCE, aggregate_type="shipment", aggregate_id=str(shipment.id),
        data={
            "shipment_id": str(shipment.id), "order_id": str(shipment.order_id), "customer_id": shipment.customer_id,
            "warehouse": shipment.warehouse, "status": shipment.status, "tracking_number": shipment.tracking_number,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in shipment.lines.order_by("sku")],
        },
    )  # fmt: skip
