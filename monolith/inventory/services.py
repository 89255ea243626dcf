"""Inventory writes: adjustments, reservations, their release and consumption on dispatch."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from monolith.core.errors import Conflict, DomainError, NotFound
from monolith.core.ownership import capability_write_guard
from monolith.inventory import published
from monolith.inventory.allocation import allocate
from monolith.inventory.errors import InsufficientStock
from monolith.inventory.locks import reservation_lock, stock_lock_for_skus, stock_lock_rows
from monolith.inventory.models import Reservation, ReservationLine, Stock, StockAdjustment, Warehouse

# Every write starts with capability_write_guard: once inventory is fenced (cut over), nothing is written here.
CAPABILITY = "inventory"


def _save(row: Stock, *fields: str) -> None:
    row.version += 1
    row.save(update_fields=[*fields, "version", "updated_at"])


def _warehouse(code: str) -> Warehouse:
    try:
        return Warehouse.objects.get(code=code)
    except Warehouse.DoesNotExist:
        raise NotFound(f"No warehouse {code}.", code="warehouse_not_found") from None


@transaction.atomic
def stock_adjust(*, warehouse_code: str, sku: str, delta: int, reason: str, actor_id: int | None) -> StockAdjustment:
    capability_write_guard(CAPABILITY)
    if delta == 0:
        raise DomainError("An adjustment must change the stock.", code="zero_adjustment")
    warehouse = _warehouse(warehouse_code)
    Stock.objects.get_or_create(warehouse=warehouse, sku=sku)
    stock = stock_lock_rows(pairs=[(warehouse.pk, sku)])[(warehouse.pk, sku)]
    if stock.on_hand + delta < stock.reserved:
        raise Conflict(
            f"Stock of {sku} at {warehouse_code} cannot go below what is reserved.",
            code="adjustment_below_reserved",
            details={"on_hand": stock.on_hand, "reserved": stock.reserved, "delta": delta},
        )
    stock.on_hand += delta
    _save(stock, "on_hand")
    adjustment = StockAdjustment.objects.create(
        warehouse=warehouse, sku=sku, delta=delta, reason=reason, actor_id=actor_id, on_hand_after=stock.on_hand
    )
    published.stock_adjusted(adjustment, stock)
    return adjustment


def _requested(lines: Iterable[tuple[str, int]]) -> Counter[str]:
    requested: Counter[str] = Counter()
    for sku, quantity in lines:
        if quantity <= 0:
            raise DomainError("Quantities must be positive.", code="invalid_quantity", details={"sku": sku})
        requested[sku] += quantity
    if not requested:
        raise DomainError("A reservation needs at least one line.", code="empty_reservation")
    return requested


@transaction.atomic
def reservation_create(*, reference: str, lines: Iterable[tuple[str, int]]) -> Reservation:
    """Hold stock for ``reference``; raises InsufficientStock (nothing held) when any SKU is short."""
    capability_write_guard(CAPABILITY)
    requested = _requested(lines)
    rows = stock_lock_for_skus(skus=requested)
    ranked = sorted({row.warehouse for row in rows}, key=lambda w: (w.priority, w.code))
    result = allocate(
        requested,
        {(row.warehouse.code, row.sku): row.available for row in rows},
        [w.code for w in ranked],
    )
    if not result.ok:
        raise InsufficientStock(
            "Not enough stock for: " + ", ".join(s.sku for s in result.shortages) + ".",
            details={
                "skus": [{"sku": s.sku, "requested": s.requested, "available": s.available} for s in result.shortages]
            },
        )
    by_key = {(row.warehouse.code, row.sku): row for row in rows}
    reservation = Reservation.objects.create(id=uuid.uuid4(), reference=reference)
    touched = []
    for code, sku, quantity in result.picks:
        row = by_key[(code, sku)]
        row.reserved += quantity
        _save(row, "reserved")
        touched.append(row)
        ReservationLine.objects.create(reservation=reservation, warehouse=row.warehouse, sku=sku, quantity=quantity)
    published.reservation_changed("stock.reserved", reservation, touched)
    return reservation


@transaction.atomic
def reservation_release(*, reservation_id: uuid.UUID) -> Reservation:
    """Give held stock back. Releasing twice is a no-op; a consumed (shipped) reservation cannot be released."""
    capability_write_guard(CAPABILITY)
    reservation = reservation_lock(reservation_id=reservation_id)
    if reservation is None:
        raise NotFound("No such reservation.", code="reservation_not_found")
    if reservation.status == Reservation.Status.RELEASED:
        return reservation
    open_lines = list(reservation.lines.filter(consumed=False))
    if reservation.status == Reservation.Status.CONSUMED or (not open_lines and reservation.lines.exists()):
        raise Conflict("This reservation has already shipped.", code="reservation_consumed")
    rows = stock_lock_rows(pairs=[(line.warehouse_id, line.sku) for line in open_lines])
    for line in open_lines:
        row = rows[(line.warehouse_id, line.sku)]
        row.reserved -= line.quantity
        _save(row, "reserved")
    reservation.status = Reservation.Status.RELEASED
    reservation.save(update_fields=["status", "updated_at"])
    published.reservation_changed("stock.released", reservation, rows.values())
    return reservation


@transaction.atomic
def reservation_consume(*, reference: str, warehouse_code: str) -> int:
    """Take the stock held for ``reference`` at one warehouse off the shelf (it shipped). Returns units consumed."""
    capability_write_guard(CAPABILITY)
    lines: QuerySet[ReservationLine] = ReservationLine.objects.filter(
        reservation__reference=reference,
        reservation__status=Reservation.Status.ACTIVE,
        warehouse__code=warehouse_code,
        consumed=False,
    )
    open_lines = list(lines.select_related("reservation"))
    if not open_lines:
        return 0
    rows = stock_lock_rows(pairs=[(line.warehouse_id, line.sku) for line in open_lines])
    for line in open_lines:
        row = rows[(line.warehouse_id, line.sku)]
        row.reserved -= line.quantity
        row.on_hand -= line.quantity
        _save(row, "reserved", "on_hand")
        line.consumed = True
        line.save(update_fields=["consumed"])
    for reservation in {line.reservation for line in open_lines}:
        if not reservation.lines.filter(consumed=False).exists():
            reservation.status = Reservation.Status.CONSUMED
            reservation.save(update_fields=["status", "updated_at"])
        mine = [rows[(x.warehouse_id, x.sku)] for x in open_lines if x.reservation_id == reservation.id]
        published.reservation_changed("stock.consumed", reservation, mine, warehouse=warehouse_code)
    return sum(line.quantity for line in open_lines)
