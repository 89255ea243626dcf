"""Which adapter a call uses: the owner of the record, by the rule the proxy routes with.

::

    ports = CheckoutPorts(OwnershipView(state_url), local=Adapters(...), remote=Adapters(...))
    ports.inventory()                      # inventory writes move at cut-over: view.owner_of_writes("inventory")
    ports.payment_for_order(order_id)      # a new payment: view.owner("payment", key=str(order_id))
    ports.payment(payment_id)              # an existing one: view.owner_of_record("payment", payment_id)

Group names are the proxy's: ``inventory``, ``payment``, ``shipment``. The choice is made per call, so a canary
percent changed by the proxy applies to the next call without a restart.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from monolith.orders.ports import InventoryPort, PaymentPort, ShipmentInfo, ShipmentPort
from strangler_proxy.model import Side

INVENTORY, PAYMENT, SHIPMENT = "inventory", "payment", "shipment"


class Ownership(Protocol):
    """What ``strangler_proxy.ownership.OwnershipView`` answers."""

    def owner(self, group: str, *, key: str | None = None) -> Side: ...

    def owner_of_record(self, group: str, record_id: uuid.UUID | str) -> Side: ...

    def owner_of_writes(self, group: str) -> Side: ...


@dataclass(frozen=True)
class Adapters:
    inventory: InventoryPort
    payment: PaymentPort
    shipment: ShipmentPort


class CheckoutPorts:
    """The checkout's one entry to inventory, payments and shipments, on whichever side owns each record."""

    def __init__(
        self,
        ownership: Ownership,
        *,
        local: Adapters,
        remote: Adapters,
        closers: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.ownership = ownership
        self._sides = {Side.MONOLITH: local, Side.SERVICE: remote}
        self._closers = tuple(closers)

    def close(self) -> None:
        """Release the HTTP clients and the state store connection (they reopen lazily if used again)."""
        for close in self._closers:
            close()

    def inventory(self) -> InventoryPort:
        # Inventory reads follow the canary by SKU, but its writes (reserve, release, consume) move only at
        # cut-over, behind the write barrier, as the proxy routes unsafe requests of the group.
        return self._sides[self.ownership.owner_of_writes(INVENTORY)].inventory

    def payment_for_order(self, order_id: uuid.UUID) -> PaymentPort:
        return self._sides[self.ownership.owner(PAYMENT, key=str(order_id))].payment

    def payment(self, payment_id: uuid.UUID) -> PaymentPort:
        return self._sides[self.ownership.owner_of_record(PAYMENT, payment_id)].payment

    def shipment_for_order(self, order_id: uuid.UUID) -> ShipmentPort:
        return self._sides[self.ownership.owner(SHIPMENT, key=str(order_id))].shipment

    def shipment(self, shipment_id: uuid.UUID) -> ShipmentPort:
        return self._sides[self.ownership.owner_of_record(SHIPMENT, shipment_id)].shipment

    def shipments_of_order(self, order_id: uuid.UUID) -> list[ShipmentInfo]:
        """The order's shipments, each as its owner has it.

        An order's shipments can live on both sides: ones created before its bucket entered the canary stay on the
        monolith (legacy ids), and each side holds replicated copies of the other's, which may lag. So the
        monolith's rows are read, the service is asked only when it owns some of them, and each record is taken
        from its owner.
        """
        local = self._sides[Side.MONOLITH].shipment.list_for_order(order_id=order_id)
        owner = self.ownership.owner_of_record
        mine = {s.id: s for s in local if owner(SHIPMENT, s.id) is Side.MONOLITH}
        service_owns = len(mine) < len(local) or self.ownership.owner(SHIPMENT, key=str(order_id)) is Side.SERVICE
        if service_owns:
            remote = self._sides[Side.SERVICE].shipment.list_for_order(order_id=order_id)
            mine.update({s.id: s for s in remote if owner(SHIPMENT, s.id) is Side.SERVICE})
        return list(mine.values())
