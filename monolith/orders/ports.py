"""What the checkout needs from inventory, payments and shipments, whichever side owns them.

Each port has two adapters (``monolith.orders.adapters``): one calling the monolith's own services in process,
one calling the extracted service over HTTP. ``monolith.orders.routing.CheckoutPorts`` picks one per call from
the owner of the record (docs/extraction.md, "Ownership")::

    ports = checkout_ports()
    reservation = ports.inventory().reserve(reference=str(order.id), lines=[("MUG", 2)])
    payment_id = ports.payment_for_order(order.id).authorize(customer_id=7, amount=..., ...)
    ports.payment(payment_id).capture(payment_id=payment_id)

Errors are the monolith's ``DomainError`` tree whichever adapter answers (a service's 409 ``insufficient_stock``
is ``InsufficientStock``), plus ``RemoteOutcomeUnknown`` when a remote call's answer was lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from monolith.core.errors import UpstreamUnavailable

__all__ = [
    "HeldLine",
    "InventoryPort",
    "PaymentInfo",
    "PaymentPort",
    "RemoteOutcomeUnknown",
    "ReservationInfo",
    "ShipmentInfo",
    "ShipmentPort",
]


class RemoteOutcomeUnknown(UpstreamUnavailable):
    """The request reached the service but no answer came back: its effect may or may not exist.

    Calling again with the same arguments is safe (the adapter sends the same ``Idempotency-Key``): it returns
    the first outcome if there was one, so a caller that must undo the effect replays the call to learn its id.
    """

    code = "service_outcome_unknown"


@dataclass(frozen=True)
class HeldLine:
    warehouse: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class ReservationInfo:
    id: uuid.UUID
    lines: tuple[HeldLine, ...]

    def per_warehouse(self) -> dict[str, list[tuple[str, int]]]:
        """(sku, quantity) held at each warehouse, warehouses in the order their lines come."""
        grouped: dict[str, list[tuple[str, int]]] = {}
        for line in self.lines:
            grouped.setdefault(line.warehouse, []).append((line.sku, line.quantity))
        return grouped


@dataclass(frozen=True)
class PaymentInfo:
    id: uuid.UUID
    status: str
    amount: Decimal
    captured_amount: Decimal
    refunded_amount: Decimal


@dataclass(frozen=True)
class ShipmentInfo:
    id: uuid.UUID
    warehouse: str
    status: str


class InventoryPort(Protocol):
    # True when effects outlive the monolith's transaction (they must be compensated, not rolled back).
    remote: bool

    def reserve(self, *, reference: str, lines: Sequence[tuple[str, int]]) -> ReservationInfo:
        """Hold stock for ``reference``; InsufficientStock (409) and nothing held when any SKU is short."""
        ...

    def release(self, *, reservation_id: uuid.UUID) -> None:
        """Give held stock back; a no-op when already released."""
        ...

    def consume(self, *, reference: str, warehouse: str) -> None:
        """The stock held for ``reference`` at ``warehouse`` shipped: take it off the shelf."""
        ...


class PaymentPort(Protocol):
    remote: bool

    def authorize(
        self, *, customer_id: int, amount: Decimal, currency: str, card_token: str, order_id: uuid.UUID
    ) -> uuid.UUID:
        """The new payment's id; PaymentDeclined (402) when the card is declined."""
        ...

    def capture(self, *, payment_id: uuid.UUID) -> None: ...

    def void(self, *, payment_id: uuid.UUID) -> None: ...

    def refund(self, *, payment_id: uuid.UUID) -> None:
        """Refund everything captured and not yet refunded."""
        ...

    def get(self, *, payment_id: uuid.UUID) -> PaymentInfo: ...


class ShipmentPort(Protocol):
    remote: bool

    def create(
        self, *, order_id: uuid.UUID, customer_id: int, warehouse: str, lines: Sequence[tuple[str, int]]
    ) -> uuid.UUID: ...

    def cancel(self, *, shipment_id: uuid.UUID) -> None:
        """Cancel a shipment that has not left; a no-op when already cancelled."""
        ...

    def list_for_order(self, *, order_id: uuid.UUID) -> list[ShipmentInfo]: ...
