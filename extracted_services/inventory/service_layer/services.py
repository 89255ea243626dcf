"""Inventory's use cases: adjust stock, reserve it, release a reservation, consume it when a shipment leaves.

Each runs in one unit of work: the change and the events it publishes commit together. They behave as the
monolith's ``monolith/inventory/services.py`` does (same checks in the same order, same errors, same events),
since during the migration either side may answer the same request.

A unit of work that lost a race (``StaleLevel``: a level or reservation changed between its read and its write)
runs again on fresh reads, a few times. On the ORM the row locks make that rare (a writer waits for the other
instead); on DynamoDB it is how concurrent writers queue. Either way the later request sees the earlier one's
stock, so both adapters answer alike (e.g. ``insufficient_stock``, never ``concurrent_update``, for the loser of
the last unit). Only after ``STALE_ATTEMPTS`` lost races does ``StaleLevel`` reach the caller (409).
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from extracted_services.inventory.domain.allocation import allocate
from extracted_services.inventory.domain.errors import (
    InsufficientStock,
    ReservationNotFound,
    StaleLevel,
    ZeroAdjustment,
)
from extracted_services.inventory.domain.events import StockAdjusted, StockConsumed, StockReleased, StockReserved
from extracted_services.inventory.domain.model import (
    Adjustment,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    requested_quantities,
)
from extracted_services.inventory.service_layer.unit_of_work import AbstractUnitOfWork

STALE_ATTEMPTS = 10
P = ParamSpec("P")
R = TypeVar("R")


def retried_when_stale(use_case: Callable[P, R]) -> Callable[P, R]:
    """Run ``use_case`` again (after a short random pause) when it raises ``StaleLevel``."""

    @functools.wraps(use_case)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, STALE_ATTEMPTS):
            try:
                return use_case(*args, **kwargs)
            except StaleLevel:
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))  # spread the retries of racing writers
        return use_case(*args, **kwargs)

    return run


@retried_when_stale
def stock_adjust(
    uow: AbstractUnitOfWork, *, warehouse_code: str, sku: str, delta: int, reason: str, actor_id: int | None
) -> Adjustment:
    if delta == 0:
        raise ZeroAdjustment()
    with uow:
        level = uow.inventory.level(warehouse_code, sku).adjusted(delta)
        uow.inventory.save_levels([level])
        adjustment = uow.inventory.record_adjustment(
            Adjustment(
                warehouse=warehouse_code, sku=sku, delta=delta, reason=reason, actor_id=actor_id,
                on_hand_after=level.on_hand,
            )
        )  # fmt: skip
        uow.emit(StockAdjusted(adjustment, level))
        uow.commit()
    return adjustment


@retried_when_stale
def reservation_create(
    uow: AbstractUnitOfWork,
    *,
    reference: str,
    lines: Iterable[tuple[str, int]],
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> Reservation:
    """Hold stock for ``reference``; raises InsufficientStock (nothing held) when any SKU is short."""
    requested = requested_quantities(lines)
    with uow:
        levels = {level.key: level for level in uow.inventory.levels(requested, lock=True)}
        stocked = {warehouse for warehouse, _ in levels}
        ranked = [w.code for w in uow.inventory.warehouses() if w.code in stocked]
        plan = allocate(requested, {key: level.available for key, level in levels.items()}, ranked)
        if not plan.ok:
            raise InsufficientStock([(s.sku, s.requested, s.available) for s in plan.shortages])
        held = [levels[(pick.warehouse, pick.sku)].held(pick.quantity) for pick in plan.picks]
        uow.inventory.save_levels(held)
        reservation = uow.inventory.save_reservation(Reservation.from_plan(new_id(), reference, plan))
        uow.emit(StockReserved(reservation, tuple(held)))
        uow.commit()
    return reservation


@retried_when_stale
def reservation_release(uow: AbstractUnitOfWork, *, reservation_id: uuid.UUID) -> Reservation:
    """Give held stock back. Releasing twice is a no-op; a consumed (shipped) reservation cannot be released."""
    with uow:
        reservation = uow.inventory.reservation(reservation_id, lock=True)
        if reservation is None:
            raise ReservationNotFound()
        if reservation.status is ReservationStatus.RELEASED:
            return reservation
        released = reservation.release()
        levels = _take(uow, reservation.open_lines, StockLevel.released)
        released = uow.inventory.save_reservation(released)
        uow.emit(StockReleased(released, tuple(levels.values())))
        uow.commit()
    return released


@retried_when_stale
def reservation_consume(uow: AbstractUnitOfWork, *, reference: str, warehouse_code: str) -> int:
    """Take the stock held for ``reference`` at one warehouse off the shelf (it shipped). Returns units consumed."""
    with uow:
        shipping = [
            (reservation, lines)
            for reservation in uow.inventory.reservations_of(reference, lock=True)
            if reservation.status is ReservationStatus.ACTIVE
            and (lines := [line for line in reservation.open_lines if line.warehouse == warehouse_code])
        ]
        if not shipping:
            return 0
        levels = _take(uow, [line for _, lines in shipping for line in lines], StockLevel.shipped)
        for reservation, lines in shipping:
            shipped = uow.inventory.save_reservation(reservation.ship(warehouse_code))
            mine = tuple(levels[key] for key in dict.fromkeys(line.key for line in lines))
            uow.emit(StockConsumed(shipped, mine, warehouse_code))
        uow.commit()
    return sum(line.quantity for _, lines in shipping for line in lines)


def _take(
    uow: AbstractUnitOfWork, lines: Iterable[ReservationLine], change: Callable[[StockLevel, int], StockLevel]
) -> dict[tuple[str, str], StockLevel]:
    """Apply ``change`` for each line to its (locked) stock level and save them; returns the new levels by key."""
    lines = list(lines)
    stored = {level.key: level for level in uow.inventory.levels({line.sku for line in lines}, lock=True)}
    changed: dict[tuple[str, str], StockLevel] = {}
    for line in lines:
        changed[line.key] = change(changed.get(line.key, stored[line.key]), line.quantity)
    uow.inventory.save_levels(changed.values())
    return changed
