"""Shipment use cases: one shipment per warehouse that supplies an order (as ``monolith.shipments.services``).

::

    deps = bootstrap.shipment_dependencies()
    shipment = shipment_dispatch(deps, shipment_id=sid)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from extracted_services.shipment.domain import (
    InvalidShipmentLines,
    Shipment,
    ShipmentExists,
    ShipmentNotFound,
    new_tracking_number,
)
from extracted_services.shipment.service_layer.unit_of_work import ShipmentRepository, UnitOfWork

__all__ = [
    "ShipmentDependencies",
    "shipment_cancel",
    "shipment_create",
    "shipment_deliver",
    "shipment_dispatch",
    "shipment_get",
]


@dataclass(frozen=True, kw_only=True)
class ShipmentDependencies:
    """What the use cases need, chosen once by ``bootstrap``."""

    uow: Callable[[], UnitOfWork]
    reader: Callable[[], ShipmentRepository]  # reads outside a unit of work: no transaction, no locks
    new_id: Callable[[uuid.UUID], uuid.UUID]  # order id -> a new shipment id
    clock: Callable[[], datetime]
    tracking_number: Callable[[], str] = new_tracking_number


def shipment_create(
    deps: ShipmentDependencies,
    *,
    order_id: uuid.UUID,
    customer_id: int,
    warehouse: str,
    lines: Iterable[tuple[str, int]],
) -> Shipment:
    items = list(lines)
    if not items or any(quantity <= 0 for _, quantity in items):
        raise InvalidShipmentLines()
    with deps.uow() as uow:
        if uow.shipments.has_open(order_id=order_id, warehouse=warehouse):
            raise ShipmentExists(order_id=order_id, warehouse=warehouse)
        shipment = Shipment.create(
            id=deps.new_id(order_id), order_id=order_id, customer_id=customer_id, warehouse=warehouse,
            lines=items, tracking_number=deps.tracking_number(), now=deps.clock(),
        )  # fmt: skip
        uow.shipments.add(shipment)
        uow.commit()
    return shipment


def _move(deps: ShipmentDependencies, shipment_id: uuid.UUID, move: Callable[[Shipment, datetime], None]) -> Shipment:
    with deps.uow() as uow:
        shipment = uow.shipments.get_for_update(shipment_id)
        if shipment is None:
            raise ShipmentNotFound()
        move(shipment, deps.clock())
        uow.commit()
    return shipment


def shipment_dispatch(deps: ShipmentDependencies, *, shipment_id: uuid.UUID) -> Shipment:
    return _move(deps, shipment_id, lambda shipment, now: shipment.dispatch(now=now))


def shipment_deliver(deps: ShipmentDependencies, *, shipment_id: uuid.UUID) -> Shipment:
    return _move(deps, shipment_id, lambda shipment, now: shipment.deliver(now=now))


def shipment_cancel(deps: ShipmentDependencies, *, shipment_id: uuid.UUID) -> Shipment:
    return _move(deps, shipment_id, lambda shipment, now: shipment.cancel(now=now))


def shipment_get(deps: ShipmentDependencies, *, shipment_id: uuid.UUID, customer_id: int | None = None) -> Shipment:
    """A shipment; with ``customer_id``, only that customer's (others are reported as not found)."""
    shipment = deps.reader().get(shipment_id, customer_id=customer_id)
    if shipment is None:
        raise ShipmentNotFound()
    return shipment
