"""Writing a service's record into the monolith's legacy tables, as the record's events carry it.

Plain upserts: no write service, no guard, no event (publishing would echo the service's change back as the
monolith's). Every function applies a whole-state document, so applying one twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from monolith.inventory.models import Reservation, ReservationLine, Stock, Warehouse
from monolith.payments.models import Payment
from monolith.shipments.models import Shipment, ShipmentLine

Document = Mapping[str, Any]


def _warehouses(codes: Iterable[str]) -> dict[str, Warehouse]:
    wanted = set(codes)
    found = {w.code: w for w in Warehouse.objects.filter(code__in=wanted)}
    for code in sorted(wanted - set(found)):  # a warehouse the service knows and the monolith never had
        found[code] = Warehouse.objects.get_or_create(code=code, defaults={"name": code})[0]
    return found


def levels_apply(levels: Iterable[Document]) -> int:
    """Store each stock level whose version is newer than the row's; returns how many rows changed.

    Levels of one row reach the monolith in events of different aggregates (each reservation is its own), which
    the inbox does not order against each other, so the version decides: an older level never overwrites.
    """
    levels = list(levels)
    warehouses = _warehouses(level["warehouse"] for level in levels)
    return sum(_level_apply(warehouses[level["warehouse"]], level) for level in levels)


def _level_apply(warehouse: Warehouse, level: Document) -> bool:
    values = {"on_hand": level["on_hand"], "reserved": level["reserved"], "version": int(level["version"])}
    older = Stock.objects.filter(warehouse=warehouse, sku=level["sku"], version__lt=values["version"])
    if older.update(**values, updated_at=timezone.now()):
        return True
    try:
        with transaction.atomic():
            Stock.objects.create(warehouse=warehouse, sku=level["sku"], **values)
        return True
    except IntegrityError:  # the row exists: newer or as new already, or created just now by a concurrent level
        return bool(older.update(**values, updated_at=timezone.now()))


def reservation_upsert(data: Document, *, consumed_at: str | None = None) -> Reservation:
    """The reservation and its lines as ``data`` says; ``consumed_at`` marks that warehouse's lines shipped.

    The events carry no per-line ``consumed`` flag: a line is consumed once a ``stock.consumed`` event named its
    warehouse, or when the whole reservation is consumed, and stays so.
    """
    reservation, _ = Reservation.objects.update_or_create(
        id=uuid.UUID(data["reservation_id"]), defaults={"reference": data["reference"], "status": data["status"]}
    )
    warehouses = _warehouses(line["warehouse"] for line in data["lines"])
    existing = {(line.warehouse.code, line.sku): line for line in reservation.lines.select_related("warehouse")}
    wanted = {(line["warehouse"], line["sku"]): int(line["quantity"]) for line in data["lines"]}
    ReservationLine.objects.filter(pk__in=[existing[key].pk for key in existing.keys() - wanted.keys()]).delete()
    everything_shipped = data["status"] == Reservation.Status.CONSUMED
    for (code, sku), quantity in wanted.items():
        line = existing.get((code, sku))
        if line is None:
            line = ReservationLine(reservation=reservation, warehouse=warehouses[code], sku=sku)
        line.quantity = quantity
        line.consumed = line.consumed or everything_shipped or code == consumed_at
        line.save()
    return reservation


def payment_upsert(data: Document) -> Payment:
    values = {
        "customer_id": data["customer_id"],
        "order_id": uuid.UUID(data["order_id"]) if data.get("order_id") else None,
        "amount": Decimal(data["amount"]),
        "currency": data["currency"],
        "status": data["status"],
        "captured_amount": Decimal(data["captured_amount"]),
        "refunded_amount": Decimal(data["refunded_amount"]),
    }
    # The gateway reference stays with the service that talks to the gateway.
    payment, _ = Payment.objects.update_or_create(
        id=uuid.UUID(data["payment_id"]), defaults=values, create_defaults={**values, "gateway_reference": ""}
    )
    return payment


_STAMPS: dict[str, tuple[str, ...]] = {
    Shipment.Status.DISPATCHED: ("dispatched_at",),
    Shipment.Status.DELIVERED: ("dispatched_at", "delivered_at"),
    Shipment.Status.CANCELLED: ("cancelled_at",),
}


def shipment_upsert(data: Document, *, at: datetime) -> Shipment:
    """The shipment and its lines as ``data`` says; a status's timestamp is the event's time, set once."""
    values = {
        "order_id": uuid.UUID(data["order_id"]),
        "customer_id": data["customer_id"],
        "warehouse": data["warehouse"],
        "status": data["status"],
        "tracking_number": data["tracking_number"],
    }
    shipment, _ = Shipment.objects.update_or_create(id=uuid.UUID(data["shipment_id"]), defaults=values)
    stamped = [name for name in _STAMPS.get(shipment.status, ()) if getattr(shipment, name) is None]
    for name in stamped:
        setattr(shipment, name, at)
    if stamped:
        shipment.save(update_fields=stamped)
    lines = sorted((line["sku"], int(line["quantity"])) for line in data["lines"])
    if sorted(shipment.lines.values_list("sku", "quantity")) != lines:
        shipment.lines.all().delete()
        ShipmentLine.objects.bulk_create(ShipmentLine(shipment=shipment, sku=sku, quantity=q) for sku, q in lines)
    return shipment
