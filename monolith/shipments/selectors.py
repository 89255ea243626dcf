from __future__ import annotations

import uuid

from django.db.models import Prefetch, QuerySet

from monolith.core.errors import NotFound
from monolith.core.export import ExportPage, export_page
from monolith.shipments import published
from monolith.shipments.models import Shipment, ShipmentLine


def shipment_list(*, order_id: uuid.UUID | None = None, customer_id: int | None = None) -> QuerySet[Shipment]:
    shipments = Shipment.objects.prefetch_related("lines")
    if order_id is not None:
        shipments = shipments.filter(order_id=order_id)
    if customer_id is not None:
        shipments = shipments.filter(customer_id=customer_id)
    return shipments


def shipment_get(*, shipment_id: uuid.UUID, customer_id: int | None = None) -> Shipment:
    shipment = shipment_list(customer_id=customer_id).filter(pk=shipment_id).first()
    if shipment is None:
        raise NotFound("No such shipment.", code="shipment_not_found")
    return shipment


def shipment_export(*, after: uuid.UUID | None, limit: int) -> ExportPage:
    """One record per shipment, shaped as the ``shipment.*`` events' data."""
    lines = Prefetch("lines", queryset=ShipmentLine.objects.order_by("sku"))
    return export_page(
        Shipment.objects.prefetch_related(lines), after=after, limit=limit, aggregate_type="shipment",
        id_fields=("pk",), aggregate_id=str,
        document=lambda shipment: published.snapshot(shipment, shipment.lines.all()),
    )  # fmt: skip
