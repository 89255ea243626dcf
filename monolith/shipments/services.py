"""Shipment writes: one shipment per warehouse that supplies an order.

Every write starts with capability_write_guard: once shipments are fenced (cut over), nothing is written here. A
shipment's id carries its order's bucket (``strangler_proxy.record_ids``), so later calls naming only the
shipment reach the side that owns the order's records.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from monolith.core.errors import Conflict, DomainError, NotFound
from monolith.core.hooks import notify
from monolith.core.ownership import capability_write_guard
from monolith.shipments import published
from monolith.shipments.models import Shipment, ShipmentLine
from strangler_proxy.buckets import bucket_of
from strangler_proxy.record_ids import mint_record_id

CAPABILITY = "shipments"

_TIMESTAMPS: dict[str, str] = {
    Shipment.Status.DISPATCHED: "dispatched_at",
    Shipment.Status.DELIVERED: "delivered_at",
    Shipment.Status.CANCELLED: "cancelled_at",
}


def _tracking_number() -> str:
    return "TRK" + secrets.token_hex(6).upper()


@transaction.atomic
def shipment_create(
    *, order_id: uuid.UUID, customer_id: int, warehouse: str, lines: Iterable[tuple[str, int]]
) -> Shipment:
    capability_write_guard(CAPABILITY)
    items = list(lines)
    if not items or any(quantity <= 0 for _, quantity in items):
        raise DomainError("A shipment needs lines with positive quantities.", code="invalid_shipment_lines")
    if (
        Shipment.objects.filter(order_id=order_id, warehouse=warehouse)
        .exclude(status=Shipment.Status.CANCELLED)
        .exists()
    ):
        raise Conflict(f"Order {order_id} already has a shipment from {warehouse}.", code="shipment_exists")
    shipment = Shipment.objects.create(
        id=mint_record_id(bucket_of(str(order_id))),
        order_id=order_id,
        customer_id=customer_id,
        warehouse=warehouse,
        tracking_number=_tracking_number(),
    )
    ShipmentLine.objects.bulk_create(ShipmentLine(shipment=shipment, sku=sku, quantity=q) for sku, q in items)
    published.shipment_changed("shipment.created", shipment)
    return shipment


def _locked(shipment_id: uuid.UUID) -> Shipment:
    shipment = Shipment.objects.select_for_update().filter(pk=shipment_id).first()
    if shipment is None:
        raise NotFound("No such shipment.", code="shipment_not_found")
    return shipment


def _move(shipment: Shipment, status: str) -> Shipment:
    if status not in Shipment.TRANSITIONS[shipment.status]:
        raise Conflict(
            f"A {shipment.status} shipment cannot become {status}.",
            code="invalid_shipment_transition",
            details={"from": shipment.status, "to": status},
        )
    shipment.status = status
    setattr(shipment, _TIMESTAMPS[status], timezone.now())
    shipment.save(update_fields=["status", _TIMESTAMPS[status]])
    published.shipment_changed(f"shipment.{status}", shipment)
    return shipment


@transaction.atomic
def shipment_dispatch(*, shipment_id: uuid.UUID) -> Shipment:
    capability_write_guard(CAPABILITY)
    shipment = _move(_locked(shipment_id), Shipment.Status.DISPATCHED)
    notify("shipment_dispatched", order_id=shipment.order_id, warehouse=shipment.warehouse)
    return shipment


@transaction.atomic
def shipment_deliver(*, shipment_id: uuid.UUID) -> Shipment:
    capability_write_guard(CAPABILITY)
    return _move(_locked(shipment_id), Shipment.Status.DELIVERED)


@transaction.atomic
def shipment_cancel(*, shipment_id: uuid.UUID) -> Shipment:
    capability_write_guard(CAPABILITY)
    shipment = _locked(shipment_id)
    if shipment.status == Shipment.Status.CANCELLED:
        return shipment
    return _move(shipment, Shipment.Status.CANCELLED)
