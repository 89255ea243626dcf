"""The events shipments publishes. Each carries the shipment's whole state after the change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events.outbox import publish
from monolith.shipments.models import Shipment, ShipmentLine

SOURCE = "monolith/shipments"


def snapshot(shipment: Shipment, lines: Iterable[ShipmentLine] | None = None) -> dict[str, Any]:
    """The shipment as its events carry it (also the export API's record). ``lines`` (if given) ordered by sku."""
    if lines is None:
        lines = shipment.lines.order_by("sku")
    return {
        "shipment_id": str(shipment.id), "order_id": str(shipment.order_id), "customer_id": shipment.customer_id,
        "warehouse": shipment.warehouse, "status": shipment.status, "tracking_number": shipment.tracking_number,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
    }  # fmt: skip


def shipment_changed(event_type: str, shipment: Shipment) -> None:
    publish(
        type=event_type, source=SOURCE, aggregate_type="shipment", aggregate_id=str(shipment.id),
        data=snapshot(shipment),
    )  # fmt: skip
