"""Checks of the inventory service's ORM adapter, run inside the service's own Django project.

``tests/integration/test_inventory_repository.py`` runs each in a process with the service's settings (the test
process has the monolith's)::

    python -m extracted_services.inventory shell -c \
        "from tests.integration.inventory_repository_checks import run; run('level_writes_check_the_version_read')"

Each check uses its own warehouse and SKUs, so they share one database.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace

from django.db import connection
from django.db.models import F

from events.models import OutboxEvent
from extracted_services.inventory import bootstrap
from extracted_services.inventory.adapters import orm
from extracted_services.inventory.domain.errors import InsufficientStock, StaleLevel
from extracted_services.inventory.domain.model import Reservation, ReservationLine, ReservationStatus, StockLevel
from extracted_services.inventory.service_layer import replica, services

CHECKS: dict[str, Callable[[], None]] = {}


def check(function: Callable[[], None]) -> Callable[[], None]:
    CHECKS[function.__name__] = function
    return function


def run(name: str) -> None:
    CHECKS[name]()
    print("ok")


def _warehouse(code: str, priority: int = 100) -> None:
    orm.Warehouse.objects.create(code=code, name=code, priority=priority)


def _stock(code: str, sku: str) -> tuple[int, int, int]:
    row = orm.Stock.objects.get(warehouse__code=code, sku=sku)
    return row.on_hand, row.reserved, row.version


def _raises(error: type[BaseException], action: Callable[[], object]) -> BaseException:
    try:
        action()
    except error as exc:
        return exc
    raise AssertionError(f"{error.__name__} not raised")


@check
def level_writes_check_the_version_read() -> None:
    _warehouse("V1")
    uow = bootstrap.unit_of_work()
    with uow:
        level = uow.inventory.level("V1", "VER-1")
        assert level == StockLevel("V1", "VER-1", 0, 0, 0) and _stock("V1", "VER-1") == (0, 0, 0)
        uow.inventory.save_levels([level.adjusted(5)])
        uow.commit()
    assert _stock("V1", "VER-1") == (5, 0, 1)

    def lost_race() -> None:
        with uow:
            read = uow.inventory.level("V1", "VER-1")
            orm.Stock.objects.filter(sku="VER-1").update(version=F("version") + 1)  # another writer, meanwhile
            uow.inventory.save_levels([read.adjusted(1)])

    _raises(StaleLevel, lost_race)

    def inserted_meanwhile() -> None:
        with uow:
            assert uow.inventory.levels(["VER-2"], lock=True) == []
            orm.Stock.objects.create(warehouse=orm.Warehouse.objects.get(code="V1"), sku="VER-2", on_hand=1, version=1)
            uow.inventory.save_levels([StockLevel("V1", "VER-2", 3, 0, 1)])

    _raises(StaleLevel, inserted_meanwhile)
    assert _stock("V1", "VER-1") == (5, 0, 1) and not orm.Stock.objects.filter(sku="VER-2").exists()


@check
def a_change_and_its_event_commit_together_or_not_at_all() -> None:
    _warehouse("U1")
    before = OutboxEvent.objects.count()
    services.stock_adjust(bootstrap.unit_of_work(), warehouse_code="U1", sku="UOW-1", delta=4, reason="in", actor_id=1)
    [event] = OutboxEvent.objects.filter(id__gt=0).order_by("-id")[:1]
    assert OutboxEvent.objects.count() == before + 1
    assert (event.event_type, event.source, event.aggregate_id, event.sequence) == (
        "stock.adjusted", "inventory-service", "U1:UOW-1", 1
    )  # fmt: skip
    _raises(InsufficientStock, lambda: services.reservation_create(
        bootstrap.unit_of_work(), reference="o", lines=[("UOW-1", 9)]))  # fmt: skip
    uow = bootstrap.unit_of_work()
    with uow:  # left without commit: rolled back
        uow.inventory.save_levels([uow.inventory.level("U1", "UOW-1").adjusted(1)])
    replica_uow = bootstrap.replica_unit_of_work()

    def publish_from_the_replica() -> None:
        with replica_uow:
            level = replica_uow.inventory.level("U1", "UOW-1").adjusted(1)
            replica_uow.inventory.save_levels([level])
            replica_uow.emit(object())  # type: ignore[arg-type]
            replica_uow.commit()

    _raises(RuntimeError, publish_from_the_replica)
    assert _stock("U1", "UOW-1") == (4, 0, 1)
    assert OutboxEvent.objects.count() == before + 1 and not orm.Reservation.objects.filter(reference="o").exists()


@check
def reservations_round_trip_with_their_lines() -> None:
    _warehouse("R1")
    _warehouse("R2")
    reservation = Reservation(
        id=uuid.uuid4(), reference="round-trip", status=ReservationStatus.ACTIVE,
        lines=(ReservationLine("R1", "RT-1", 2), ReservationLine("R2", "RT-1", 1), ReservationLine("R1", "RT-2", 5)),
    )  # fmt: skip
    uow = bootstrap.replica_unit_of_work()
    with uow:
        stored = uow.inventory.save_reservation(reservation)
        uow.commit()
    assert stored.created_at is not None and stored.updated_at is not None
    shipped = replace(stored, lines=(ReservationLine("R1", "RT-1", 2, consumed=True), ReservationLine("R2", "RT-1", 1)))
    with uow:
        uow.inventory.save_reservation(shipped)
        uow.commit()
    found = bootstrap.reader().reservation(reservation.id, lock=False)
    assert found is not None and found.created_at == stored.created_at
    assert sorted(found.lines, key=lambda line: line.key) == sorted(shipped.lines, key=lambda line: line.key)
    assert orm.ReservationLine.objects.filter(reservation_id=reservation.id).count() == 2


def _in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    results: list[object] = [None] * count
    start = threading.Barrier(count)

    def worker(n: int) -> None:
        start.wait()
        try:
            results[n] = work(n)
        except Exception as exc:  # collected: the check asserts on them
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@check
def concurrent_reservations_never_oversell_nor_deadlock() -> None:
    _warehouse("C1", priority=1)
    _warehouse("C2", priority=2)
    for code, sku, quantity in (("C1", "CC-1", 10), ("C2", "CC-1", 4), ("C1", "CC-2", 8), ("C2", "CC-2", 8)):
        services.stock_adjust(bootstrap.unit_of_work(), warehouse_code=code, sku=sku, delta=quantity, reason="in",
                              actor_id=None)  # fmt: skip

    def reserve(n: int) -> object:
        lines = [("CC-1", 2), ("CC-2", 2)] if n % 2 else [("CC-2", 2), ("CC-1", 2)]  # opposite orders
        return services.reservation_create(bootstrap.unit_of_work(), reference=f"race-{n}", lines=lines)

    results = _in_threads(10, reserve)
    held = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(held) + len(refused) == 10, [r for r in results if not isinstance(r, Reservation | InsufficientStock)]
    assert len(held) == 7  # CC-1 has 14 units: 7 reservations of 2
    reserved = sum(_stock(code, "CC-1")[1] for code in ("C1", "C2"))
    assert reserved == 14 and all(_stock(c, s)[1] <= _stock(c, s)[0] for c in ("C1", "C2") for s in ("CC-1", "CC-2"))


@check
def the_replica_keeps_the_newest_level_whatever_the_order() -> None:
    levels = [
        StockLevel("N1", "NEW-1", 5, 1, 3),
        StockLevel("N1", "NEW-1", 9, 0, 2),
        StockLevel("N1", "NEW-1", 4, 0, 1),
    ]
    for level in levels:
        replica.replica_apply_levels(bootstrap.replica_unit_of_work(), [level])
    assert _stock("N1", "NEW-1") == (5, 1, 3)
    assert orm.Warehouse.objects.get(code="N1").priority == 100
