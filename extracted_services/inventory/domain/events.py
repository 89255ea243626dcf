"""What happened in inventory, as plain values named in the past tense.

Use cases hand these to their unit of work, which writes them to the outbox in the same transaction as the
change (``adapters/outbox.py`` maps each to the catalogue's event type: ``stock.adjusted``, ``stock.reserved``,
``stock.released``, ``stock.consumed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from extracted_services.inventory.domain.model import Adjustment, Reservation, StockLevel


@dataclass(frozen=True)
class StockAdjusted:
    adjustment: Adjustment
    level: StockLevel


@dataclass(frozen=True)
class StockReserved:
    reservation: Reservation
    levels: tuple[StockLevel, ...]


@dataclass(frozen=True)
class StockReleased:
    reservation: Reservation
    levels: tuple[StockLevel, ...]


@dataclass(frozen=True)
class StockConsumed:
    reservation: Reservation
    levels: tuple[StockLevel, ...]
    warehouse: str


Event = StockAdjusted | StockReserved | StockReleased | StockConsumed
