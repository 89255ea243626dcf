"""The storage port of inventory: what the use cases need from a database, and nothing more.

Two adapters implement it: ``adapters/orm_repository.py`` (Django ORM: row locks taken in primary-key order,
plus the version check) and ``adapters/dynamodb.py`` (no locks: conditional writes on ``version``, so stock never
goes negative and a lost race raises ``StaleLevel`` instead of overwriting).

Reads with ``lock=True`` happen inside a unit of work: on the ORM the rows stay locked until it ends, so
writers of the same rows queue; an adapter without locks just reads, and the version check catches the race
(in ``save_levels``, or when the unit of work commits if the adapter buffers its writes, as DynamoDB's does).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

from extracted_services.inventory.domain.model import Adjustment, Reservation, StockLevel, Warehouse


class InventoryRepository(Protocol):
    def warehouses(self) -> Sequence[Warehouse]:
        """Every warehouse, in rank order (priority, then code)."""
        ...

    def save_warehouse(self, warehouse: Warehouse) -> None:
        """Insert or update a warehouse by code (replica and backfill only)."""
        ...

    def level(self, warehouse: str, sku: str) -> StockLevel:
        """One level, locked; a zero level (version 0) when none is stored. Raises WarehouseNotFound."""
        ...

    def levels(self, skus: Collection[str], *, lock: bool) -> list[StockLevel]:
        """The stored levels of these SKUs in every warehouse (locked when ``lock``), in no particular order."""
        ...

    def save_levels(self, levels: Iterable[StockLevel]) -> None:
        """Write levels read in this unit of work, each only if its stored version is still the one read
        (a zero level: only if still absent); raises StaleLevel otherwise (here, or when the unit of work
        commits). The written version is the level's."""
        ...

    def reservation(self, reservation_id: uuid.UUID, *, lock: bool) -> Reservation | None: ...

    def reservations_of(self, reference: str, *, lock: bool) -> list[Reservation]:
        """The reservations held for a reference, oldest first."""
        ...

    def save_reservation(self, reservation: Reservation) -> Reservation:
        """Insert or update (status, lines); stamps ``created_at``/``updated_at`` left None. Returns it stamped."""
        ...

    def record_adjustment(self, adjustment: Adjustment) -> Adjustment:
        """Append an adjustment to the history; returns it with its ``id`` and ``created_at``."""
        ...
