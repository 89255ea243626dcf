"""The shipment aggregate: one warehouse's part of an order, moving created → dispatched → delivered (or
created → cancelled) and nowhere else.

::

    shipment = Shipment.create(id=sid, order_id=oid, customer_id=7, warehouse="BER-1",
                               lines=[("MUG-LOGO", 2)], tracking_number=new_tracking_number(), now=now)
    shipment.dispatch(now=now)                 # records ShipmentDispatched
    shipment.cancel(now=now)                   # InvalidShipmentTransition {"from": "dispatched", ...}
"""

from __future__ import annotations

import enum
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from extracted_services.shipment.domain.errors import InvalidShipmentLines, InvalidShipmentTransition
from extracted_services.shipment.domain.events import (
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentEvent,
)

__all__ = ["TRANSITIONS", "Shipment", "ShipmentLine", "ShipmentStatus", "new_tracking_number"]


class ShipmentStatus(enum.StrEnum):
    CREATED = "created"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# The only moves a shipment can make; every status change goes through Shipment._move.
TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    ShipmentStatus.CREATED: frozenset({ShipmentStatus.DISPATCHED, ShipmentStatus.CANCELLED}),
    ShipmentStatus.DISPATCHED: frozenset({ShipmentStatus.DELIVERED}),
    ShipmentStatus.DELIVERED: frozenset(),
    ShipmentStatus.CANCELLED: frozenset(),
}

_EVENTS: dict[ShipmentStatus, type[ShipmentEvent]] = {
    ShipmentStatus.DISPATCHED: ShipmentDispatched,
    ShipmentStatus.DELIVERED: ShipmentDelivered,
    ShipmentStatus.CANCELLED: ShipmentCancelled,
}


def new_tracking_number() -> str:
    """``TRK`` and 12 upper-case hex digits, as the monolith's."""
    return "TRK" + secrets.token_hex(6).upper()


@dataclass(frozen=True, order=True)
class ShipmentLine:
    sku: str
    quantity: int


@dataclass(eq=False, kw_only=True)
class Shipment:
    id: uuid.UUID
    order_id: uuid.UUID
    customer_id: int
    warehouse: str
    status: ShipmentStatus
    tracking_number: str
    lines: tuple[ShipmentLine, ...]
    created_at: datetime
    dispatched_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    events: list[ShipmentEvent] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls,
        *,
        id: uuid.UUID,
        order_id: uuid.UUID,
        customer_id: int,
        warehouse: str,
        lines: Iterable[tuple[str, int]],
        tracking_number: str,
        now: datetime,
    ) -> Shipment:
        items = tuple(ShipmentLine(sku, quantity) for sku, quantity in lines)
        if not items or any(line.quantity <= 0 for line in items):
            raise InvalidShipmentLines()
        shipment = cls(
            id=id, order_id=order_id, customer_id=customer_id, warehouse=warehouse, status=ShipmentStatus.CREATED,
            tracking_number=tracking_number, lines=tuple(sorted(items)), created_at=now,
        )  # fmt: skip
        shipment.events.append(ShipmentCreated(shipment.id, shipment.document()))
        return shipment

    def dispatch(self, *, now: datetime) -> None:
        self._move(ShipmentStatus.DISPATCHED, now)

    def deliver(self, *, now: datetime) -> None:
        self._move(ShipmentStatus.DELIVERED, now)

    def cancel(self, *, now: datetime) -> None:
        """Cancel; cancelling a cancelled shipment changes nothing."""
        if self.status is not ShipmentStatus.CANCELLED:
            self._move(ShipmentStatus.CANCELLED, now)

    def _move(self, status: ShipmentStatus, now: datetime) -> None:
        if status not in TRANSITIONS[self.status]:
            raise InvalidShipmentTransition(from_status=self.status.value, to_status=status.value)
        self.status = status
        if status is ShipmentStatus.DISPATCHED:
            self.dispatched_at = now
        elif status is ShipmentStatus.DELIVERED:
            self.delivered_at = now
        else:
            self.cancelled_at = now
        self.events.append(_EVENTS[status](self.id, self.document()))

    @property
    def is_open(self) -> bool:
        """Counts against "one shipment per order and warehouse" (a cancelled one does not)."""
        return self.status is not ShipmentStatus.CANCELLED

    def document(self) -> dict[str, Any]:
        """The shipment as the ``shipment.*`` events and the export carry it."""
        return {
            "shipment_id": str(self.id), "order_id": str(self.order_id), "customer_id": self.customer_id,
            "warehouse": self.warehouse, "status": self.status.value, "tracking_number": self.tracking_number,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in self.lines],
        }  # fmt: skip

    @classmethod
    def from_document(cls, document: dict[str, Any], *, at: datetime, previous: Shipment | None = None) -> Shipment:
        """The shipment a replicated document describes (whole state). The documents carry no timestamps: the
        creation and each move are dated by the event that first showed them (``at``), earlier dates are kept."""
        status = ShipmentStatus(document["status"])
        lines = sorted(ShipmentLine(str(line["sku"]), int(line["quantity"])) for line in document["lines"])
        shipment = cls(
            id=uuid.UUID(str(document["shipment_id"])), order_id=uuid.UUID(str(document["order_id"])),
            customer_id=int(document["customer_id"]), warehouse=str(document["warehouse"]), status=status,
            tracking_number=str(document["tracking_number"]), lines=tuple(lines),
            created_at=previous.created_at if previous else at,
        )  # fmt: skip
        before = previous or shipment
        shipment.dispatched_at = before.dispatched_at
        shipment.delivered_at = before.delivered_at
        shipment.cancelled_at = before.cancelled_at
        reached = {
            ShipmentStatus.DISPATCHED: ("dispatched_at",),
            ShipmentStatus.DELIVERED: ("dispatched_at", "delivered_at"),
            ShipmentStatus.CANCELLED: ("cancelled_at",),
        }.get(status, ())
        for name in reached:
            if getattr(shipment, name) is None:
                setattr(shipment, name, at)
        return shipment
