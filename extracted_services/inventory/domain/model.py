"""Inventory's model: warehouses, stock levels, reservations and adjustments, as immutable values.

Every change returns a new value; a stock level's ``version`` grows by one with each change, which is what
lets a replica (the monolith's legacy tables, or this service's copy of them) apply the newest level whatever
order events arrive in, and what a conditional write checks.

>>> level = StockLevel(warehouse="A", sku="MUG", on_hand=5)
>>> level.held(2)
StockLevel(warehouse='A', sku='MUG', on_hand=5, reserved=2, version=1)
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from extracted_services.inventory.domain.allocation import AllocationPlan
from extracted_services.inventory.domain.errors import (
    AdjustmentBelowReserved,
    EmptyReservation,
    InvalidQuantity,
    ReservationConsumed,
    ZeroAdjustment,
)

DEFAULT_PRIORITY = 100  # a warehouse known only from an event (no priority in it) ranks as the monolith's default


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str = ""
    priority: int = DEFAULT_PRIORITY  # lower ships first

    @property
    def rank(self) -> tuple[int, str]:
        return (self.priority, self.code)


@dataclass(frozen=True)
class StockLevel:
    warehouse: str
    sku: str
    on_hand: int = 0
    reserved: int = 0
    version: int = 0  # 0: never stored

    @property
    def key(self) -> tuple[str, str]:
        return (self.warehouse, self.sku)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def adjusted(self, delta: int) -> StockLevel:
        if delta == 0:
            raise ZeroAdjustment()
        if self.on_hand + delta < self.reserved:
            raise AdjustmentBelowReserved(
                warehouse=self.warehouse, sku=self.sku, on_hand=self.on_hand, reserved=self.reserved, delta=delta
            )
        return self._next(on_hand=self.on_hand + delta)

    def held(self, quantity: int) -> StockLevel:
        return self._next(reserved=self.reserved + quantity)

    def released(self, quantity: int) -> StockLevel:
        return self._next(reserved=self.reserved - quantity)

    def shipped(self, quantity: int) -> StockLevel:
        """Held units left the warehouse: off the shelf and no longer reserved."""
        return self._next(on_hand=self.on_hand - quantity, reserved=self.reserved - quantity)

    def _next(self, *, on_hand: int | None = None, reserved: int | None = None) -> StockLevel:
        return replace(
            self,
            on_hand=self.on_hand if on_hand is None else on_hand,
            reserved=self.reserved if reserved is None else reserved,
            version=self.version + 1,
        )


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    CONSUMED = "consumed"


@dataclass(frozen=True)
class ReservationLine:
    warehouse: str
    sku: str
    quantity: int
    consumed: bool = False  # shipped: taken off on-hand stock

    @property
    def key(self) -> tuple[str, str]:
        return (self.warehouse, self.sku)


@dataclass(frozen=True)
class Reservation:
    """Stock held for a reference (an order id). Timestamps are stamped by the repository when None."""

    id: uuid.UUID
    reference: str
    status: ReservationStatus
    lines: tuple[ReservationLine, ...]
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_plan(cls, reservation_id: uuid.UUID, reference: str, plan: AllocationPlan) -> Reservation:
        lines = tuple(ReservationLine(pick.warehouse, pick.sku, pick.quantity) for pick in plan.picks)
        return cls(id=reservation_id, reference=reference, status=ReservationStatus.ACTIVE, lines=lines)

    @property
    def open_lines(self) -> tuple[ReservationLine, ...]:
        return tuple(line for line in self.lines if not line.consumed)

    def release(self) -> Reservation:
        """Released (its open lines give their stock back). Raises ReservationConsumed once it has all shipped."""
        if self.status is ReservationStatus.CONSUMED or (self.lines and not self.open_lines):
            raise ReservationConsumed()
        return replace(self, status=ReservationStatus.RELEASED, updated_at=None)

    def ship(self, warehouse: str) -> Reservation:
        """Its open lines at ``warehouse`` shipped; consumed as a whole when no open line is left."""
        lines = tuple(replace(line, consumed=True) if line.warehouse == warehouse else line for line in self.lines)
        status = ReservationStatus.CONSUMED if all(line.consumed for line in lines) else self.status
        stamp = None if status is not self.status else self.updated_at
        return replace(self, lines=lines, status=status, updated_at=stamp)


@dataclass(frozen=True)
class Adjustment:
    """A counted change of on-hand stock, with who made it and why. ``id``/``created_at``: set once stored."""

    warehouse: str
    sku: str
    delta: int
    reason: str
    actor_id: int | None
    on_hand_after: int
    id: int | None = None
    created_at: datetime | None = None


def requested_quantities(lines: Iterable[tuple[str, int]]) -> Mapping[str, int]:
    """sku → total quantity of a reservation request; every quantity positive, at least one line."""
    requested: Counter[str] = Counter()
    for sku, quantity in lines:
        if quantity <= 0:
            raise InvalidQuantity(sku)
        requested[sku] += quantity
    if not requested:
        raise EmptyReservation()
    return dict(requested)
