"""The inventory repository and unit of work on the Django ORM.

Locks: stock rows are locked with ``SELECT … FOR UPDATE OF <stock>`` in primary-key order (as the monolith's
``locks.py``), so concurrent writers of overlapping SKUs queue instead of deadlocking; reservations are locked
before stock everywhere. Writes of levels also check the version read (``UPDATE … WHERE version = <read>``):
redundant under the row lock, it is the contract the DynamoDB adapter implements with conditional writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from types import TracebackType

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from extracted_services.inventory.adapters import orm
from extracted_services.inventory.domain.errors import StaleLevel, WarehouseNotFound
from extracted_services.inventory.domain.events import Event
from extracted_services.inventory.domain.model import (
    Adjustment,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    Warehouse,
)
from extracted_services.inventory.service_layer.unit_of_work import AbstractUnitOfWork

Key = tuple[str, str]


class DjangoInventoryRepository:
    """``InventoryRepository`` on the ORM. One per unit of work: it remembers the versions it read."""

    def __init__(self) -> None:
        self._read: dict[Key, tuple[int, int]] = {}  # (warehouse, sku) -> (row pk, version read)
        self._warehouse_rows: dict[str, orm.Warehouse] | None = None

    def warehouses(self) -> Sequence[Warehouse]:
        rows = sorted(self._warehouses().values(), key=lambda w: (w.priority, w.code))
        return [Warehouse(code=w.code, name=w.name, priority=w.priority) for w in rows]

    def save_warehouse(self, warehouse: Warehouse) -> None:
        orm.Warehouse.objects.update_or_create(
            code=warehouse.code, defaults={"name": warehouse.name, "priority": warehouse.priority}
        )
        self._warehouse_rows = None

    def level(self, warehouse: str, sku: str) -> StockLevel:
        # Created first (at zero, version 0), then locked: concurrent first adjustments queue on one row.
        row, _ = orm.Stock.objects.get_or_create(warehouse=self._warehouse(warehouse), sku=sku)
        return self._seen(self._stock().select_for_update(of=("self",)).get(pk=row.pk))

    def levels(self, skus: Collection[str], *, lock: bool) -> list[StockLevel]:
        rows = self._stock().filter(sku__in=set(skus))
        if lock:
            rows = rows.select_for_update(of=("self",))
        return [self._seen(row) for row in rows.order_by("pk")]

    def save_levels(self, levels: Iterable[StockLevel]) -> None:
        for level in levels:
            read = self._read.get(level.key)
            if read is None:
                pk = self._insert(level)
            else:
                pk, version = read
                fields = {"on_hand": level.on_hand, "reserved": level.reserved, "version": level.version}
                if not orm.Stock.objects.filter(pk=pk, version=version).update(**fields, updated_at=timezone.now()):
                    raise StaleLevel(*level.key)
            self._read[level.key] = (pk, level.version)

    def reservation(self, reservation_id: uuid.UUID, *, lock: bool) -> Reservation | None:
        rows = self._reservations().filter(pk=reservation_id)
        row = (rows.select_for_update() if lock else rows).first()
        return None if row is None else reservation_of_row(row)

    def reservations_of(self, reference: str, *, lock: bool) -> list[Reservation]:
        rows = self._reservations().filter(reference=reference).order_by("pk")
        found = [reservation_of_row(row) for row in (rows.select_for_update() if lock else rows)]
        return sorted(found, key=lambda r: (r.created_at or timezone.now(), str(r.id)))

    def save_reservation(self, reservation: Reservation) -> Reservation:
        now = timezone.now()
        row, _ = orm.Reservation.objects.update_or_create(
            id=reservation.id,
            defaults={"reference": reservation.reference, "status": str(reservation.status),
                      "updated_at": reservation.updated_at or now},
            create_defaults={"reference": reservation.reference, "status": str(reservation.status),
                             "created_at": reservation.created_at or now, "updated_at": reservation.updated_at or now},
        )  # fmt: skip
        self._save_lines(row, reservation.lines)
        return replace(reservation, created_at=row.created_at, updated_at=row.updated_at)

    def record_adjustment(self, adjustment: Adjustment) -> Adjustment:
        row = orm.StockAdjustment.objects.create(
            warehouse=self._warehouse(adjustment.warehouse), sku=adjustment.sku, delta=adjustment.delta,
            reason=adjustment.reason, actor_id=adjustment.actor_id, on_hand_after=adjustment.on_hand_after,
        )  # fmt: skip
        return replace(adjustment, id=row.pk, created_at=row.created_at)

    def _warehouses(self) -> dict[str, orm.Warehouse]:
        if self._warehouse_rows is None:
            self._warehouse_rows = {w.code: w for w in orm.Warehouse.objects.all()}
        return self._warehouse_rows

    def _warehouse(self, code: str) -> orm.Warehouse:
        try:
            return self._warehouses()[code]
        except KeyError:
            raise WarehouseNotFound(code) from None

    def _stock(self) -> QuerySet[orm.Stock]:
        return orm.Stock.objects.select_related("warehouse")

    def _seen(self, row: orm.Stock) -> StockLevel:
        self._read[(row.warehouse.code, row.sku)] = (row.pk, row.version)
        return StockLevel(row.warehouse.code, row.sku, row.on_hand, row.reserved, row.version)

    def _insert(self, level: StockLevel) -> int:
        try:
            with transaction.atomic():
                row = orm.Stock.objects.create(
                    warehouse=self._warehouse(level.warehouse), sku=level.sku, on_hand=level.on_hand,
                    reserved=level.reserved, version=level.version,
                )  # fmt: skip
        except IntegrityError:  # stored meanwhile by a concurrent writer: this write was decided on stale data
            raise StaleLevel(*level.key) from None
        return int(row.pk)

    def _reservations(self) -> QuerySet[orm.Reservation]:
        lines = orm.ReservationLine.objects.select_related("warehouse")
        return orm.Reservation.objects.prefetch_related(Prefetch("lines", queryset=lines))

    def _save_lines(self, row: orm.Reservation, lines: Sequence[ReservationLine]) -> None:
        stored = {(line.warehouse.code, line.sku): line for line in row.lines.select_related("warehouse")}
        wanted = {line.key: line for line in lines}
        row.lines.filter(pk__in=[stored[key].pk for key in stored.keys() - wanted.keys()]).delete()
        for key, line in wanted.items():
            current = stored.get(key)
            if current is None:
                orm.ReservationLine.objects.create(
                    reservation=row, warehouse=self._warehouse(line.warehouse), sku=line.sku,
                    quantity=line.quantity, consumed=line.consumed,
                )  # fmt: skip
            elif (current.quantity, current.consumed) != (line.quantity, line.consumed):
                orm.ReservationLine.objects.filter(pk=current.pk).update(quantity=line.quantity, consumed=line.consumed)


def reservation_of_row(row: orm.Reservation) -> Reservation:
    lines = tuple(
        ReservationLine(warehouse=line.warehouse.code, sku=line.sku, quantity=line.quantity, consumed=line.consumed)
        for line in row.lines.all()
    )
    return Reservation(
        id=row.id, reference=row.reference, status=ReservationStatus(row.status), lines=lines,
        created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


class DjangoUnitOfWork(AbstractUnitOfWork):
    """A ``transaction.atomic`` block (a savepoint when one is already open, e.g. under ``run_idempotent``).

    ``publish`` writes each emitted event to the outbox inside it; None for the replica, which publishes nothing.
    """

    def __init__(self, publish: Callable[[Event], None] | None) -> None:
        super().__init__()
        self._publish = publish
        self._committed = False

    def _begin(self) -> None:
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._committed = False
        self.inventory = DjangoInventoryRepository()

    def _commit(self, events: tuple[Event, ...]) -> None:
        if events:
            publish = self._publish
            if publish is None:
                raise RuntimeError("this unit of work publishes no events (a replica's): the change was not committed")
            for event in events:
                publish(event)
        self._committed = True

    def _end(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None and not self._committed:
            transaction.set_rollback(True)
        self._atomic.__exit__(exc_type, exc, tb)
