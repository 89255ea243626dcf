"""Inventory's reads, shaped as the API answers them (warehouses in rank order). No unit of work: no locks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from extracted_services.inventory.domain.errors import ReservationNotFound, SkuNotFound
from extracted_services.inventory.domain.model import DEFAULT_PRIORITY, Reservation, StockLevel
from extracted_services.inventory.service_layer.repository import InventoryRepository


@dataclass(frozen=True)
class SkuStock:
    sku: str
    levels: tuple[StockLevel, ...]  # one per warehouse keeping the SKU, best-ranked first

    @property
    def on_hand(self) -> int:
        return sum(level.on_hand for level in self.levels)

    @property
    def reserved(self) -> int:
        return sum(level.reserved for level in self.levels)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def stock_get(repository: InventoryRepository, *, sku: str) -> SkuStock:
    levels = repository.levels([sku], lock=False)
    if not levels:
        raise SkuNotFound(sku)
    rank = _ranks(repository)
    return SkuStock(sku=sku, levels=tuple(sorted(levels, key=lambda level: rank(level.warehouse))))


def reservation_get(repository: InventoryRepository, *, reservation_id: uuid.UUID) -> Reservation:
    reservation = repository.reservation(reservation_id, lock=False)
    if reservation is None:
        raise ReservationNotFound()
    rank = _ranks(repository)
    lines = tuple(sorted(reservation.lines, key=lambda line: (line.sku, rank(line.warehouse))))
    return replace(reservation, lines=lines)


def _ranks(repository: InventoryRepository) -> Callable[[str], tuple[int, str]]:
    ranks = {warehouse.code: warehouse.rank for warehouse in repository.warehouses()}
    return lambda code: ranks.get(code, (DEFAULT_PRIORITY, code))
