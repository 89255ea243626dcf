"""Keeping this service's copy of the monolith's inventory: apply its documents, publish nothing.

The documents come from the monolith's events (``stock.*``, through the inbox of consumer ``inventory``) and
from its export API (the backfill). Events carry whole state, so applying is storing:

- a stock level is stored only when its ``version`` is newer than the stored one, whatever order the events of
  different aggregates arrive in (a reservation's event and an adjustment's both carry levels);
- a reservation is stored as the document says; which document is newer is decided by the caller from the
  aggregate's sequence (the inbox applies an aggregate's events in order; the backfill compares with the
  consumer's position). Lines keep what this side knows of their shipping: a line once consumed stays so.

Warehouses met only in a document are created with the default priority until the warehouses themselves are
replicated (the export's ``warehouses`` resource).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from extracted_services.inventory.domain.model import (
    Reservation,
    ReservationStatus,
    StockLevel,
    Warehouse,
)
from extracted_services.inventory.service_layer.repository import InventoryRepository
from extracted_services.inventory.service_layer.unit_of_work import AbstractUnitOfWork


def replica_apply_levels(uow: AbstractUnitOfWork, levels: Sequence[StockLevel]) -> int:
    """Store the levels newer than the stored ones; returns how many were stored."""
    with uow:
        _ensure_warehouses(uow.inventory, {level.warehouse for level in levels})
        stored = _store_newer(uow.inventory, levels)
        uow.commit()
    return stored


def replica_apply_reservation(
    uow: AbstractUnitOfWork,
    reservation: Reservation,
    *,
    levels: Sequence[StockLevel] = (),
    shipped_from: str | None = None,
) -> None:
    """Store a reservation document (and the levels its event carries). ``shipped_from``: a ``stock.consumed``
    event's warehouse, whose lines shipped."""
    with uow:
        codes = {line.warehouse for line in reservation.lines} | {level.warehouse for level in levels}
        _ensure_warehouses(uow.inventory, codes)
        current = uow.inventory.reservation(reservation.id, lock=True)
        uow.inventory.save_reservation(_merged(reservation, current, shipped_from))
        _store_newer(uow.inventory, levels)
        uow.commit()


def replica_apply_warehouses(uow: AbstractUnitOfWork, warehouses: Iterable[Warehouse]) -> None:
    with uow:
        for warehouse in warehouses:
            uow.inventory.save_warehouse(warehouse)
        uow.commit()


def _ensure_warehouses(repository: InventoryRepository, codes: Iterable[str]) -> None:
    known = {warehouse.code for warehouse in repository.warehouses()}
    for code in sorted(set(codes) - known):
        repository.save_warehouse(Warehouse(code=code, name=code))


def _store_newer(repository: InventoryRepository, levels: Sequence[StockLevel]) -> int:
    if not levels:
        return 0
    stored = {level.key: level for level in repository.levels({level.sku for level in levels}, lock=True)}
    newer = [level for level in levels if level.key not in stored or level.version > stored[level.key].version]
    repository.save_levels(newer)
    return len(newer)


def _merged(document: Reservation, current: Reservation | None, shipped_from: str | None) -> Reservation:
    shipped = {line.key for line in current.lines if line.consumed} if current else set()
    everything = document.status is ReservationStatus.CONSUMED
    lines = tuple(
        replace(line, consumed=line.consumed or everything or line.key in shipped or line.warehouse == shipped_from)
        for line in document.lines
    )
    created_at = current.created_at if current is not None else document.created_at
    return replace(document, lines=lines, created_at=created_at)
