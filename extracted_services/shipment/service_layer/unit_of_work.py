"""The ports the use cases run over: a repository of shipments and a unit of work around it.

::

    with uow:                                   # one transaction
        shipment = uow.shipments.get_for_update(shipment_id)
        shipment.dispatch(now=now)
        uow.commit()                            # saves the shipment and its events' outbox rows together
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Protocol

from extracted_services.shipment.domain import Shipment

__all__ = ["ShipmentRepository", "UnitOfWork"]


class ShipmentRepository(Protocol):
    def add(self, shipment: Shipment) -> None: ...

    def get(self, shipment_id: uuid.UUID, *, customer_id: int | None = None) -> Shipment | None:
        """The shipment; with ``customer_id``, only if it is that customer's."""
        ...

    def get_for_update(self, shipment_id: uuid.UUID) -> Shipment | None:
        """The shipment, locked until the unit of work ends."""
        ...

    def has_open(self, *, order_id: uuid.UUID, warehouse: str) -> bool:
        """Whether the order already has a shipment from the warehouse that is not cancelled."""
        ...


class UnitOfWork(Protocol):
    @property
    def shipments(self) -> ShipmentRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None:
        """Save every shipment touched (added or loaded for update) and publish the events they recorded."""
        ...
