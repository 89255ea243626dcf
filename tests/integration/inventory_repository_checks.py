"""Checks of the inventory service's storage adapters, run inside the service's own Django project.

``tests/integration/test_inventory_repository.py`` runs the shared ones in a process with the service's settings
(the test process has the monolith's), once per adapter (``INVENTORY_REPOSITORY=orm`` or ``dynamodb``), and
``test_inventory_dynamodb.py`` the DynamoDB ones::

    python -m extracted_services.inventory shell -c \
        "from tests.integration.inventory_repository_checks import run; run('level_writes_check_the_version_read')"

The assertions are the same for both adapters; only how a check looks under the hood (``STORE``: the stored
rows or items, a concurrent writer) differs. The events a change committed are read from the events outbox, after
draining the DynamoDB outbox into it on that adapter. Each check uses its own warehouses and SKUs, so they share
one database.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.models import F

from events.models import OutboxEvent
from extracted_services.inventory import bootstrap
from extracted_services.inventory.adapters import orm
from extracted_services.inventory.adapters.documents import reservation_document
from extracted_services.inventory.adapters.dynamodb import StockInvariantViolated
from extracted_services.inventory.adapters.dynamodb_tables import to_attributes
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


class OrmStore:
    """The ORM adapter's rows."""

    def add_warehouse(self, code: str, priority: int = 100) -> None:
        orm.Warehouse.objects.create(code=code, name=code, priority=priority)

    def stock(self, code: str, sku: str) -> tuple[int, int, int] | None:
        row = orm.Stock.objects.filter(warehouse__code=code, sku=sku).first()
        return None if row is None else (row.on_hand, row.reserved, row.version)

    def bump_version(self, code: str, sku: str) -> None:
        orm.Stock.objects.filter(warehouse__code=code, sku=sku).update(version=F("version") + 1)

    def insert_level(self, code: str, sku: str, on_hand: int, version: int) -> None:
        orm.Stock.objects.create(warehouse=orm.Warehouse.objects.get(code=code), sku=sku, on_hand=on_hand,
                                 version=version)  # fmt: skip

    def reservation_ids(self, reference: str) -> list[uuid.UUID]:
        return list(orm.Reservation.objects.filter(reference=reference).values_list("id", flat=True))

    def stored_lines(self, reservation_id: uuid.UUID) -> int:
        return orm.ReservationLine.objects.filter(reservation_id=reservation_id).count()

    def priority(self, code: str) -> int:
        return orm.Warehouse.objects.get(code=code).priority

    def events(self) -> list[OutboxEvent]:
        return list(OutboxEvent.objects.order_by("id"))


class DynamoDbStore:
    """The DynamoDB adapter's items, read and written with the service's own client (``bootstrap.dynamodb()``)."""

    def __init__(self) -> None:
        self.db = bootstrap.dynamodb()

    def put(self, role: str, item: dict[str, Any]) -> None:
        self.db.client.put_item(TableName=self.db.name(role), Item=to_attributes(item))

    def add_warehouse(self, code: str, priority: int = 100) -> None:
        self.put("warehouses", {"code": code, "name": code, "priority": priority})

    def stock(self, code: str, sku: str) -> tuple[int, int, int] | None:
        item = self.db.get("stock", {"sku": sku, "warehouse": code})
        if item is not None:
            assert item["available"] == item["on_hand"] - item["reserved"], item
        return None if item is None else (item["on_hand"], item["reserved"], item["version"])

    def bump_version(self, code: str, sku: str) -> None:
        self.db.client.update_item(
            TableName=self.db.name("stock"), Key=to_attributes({"sku": sku, "warehouse": code}),
            UpdateExpression="ADD #v :one", ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues=to_attributes({":one": 1}),
        )  # fmt: skip

    def insert_level(self, code: str, sku: str, on_hand: int, version: int) -> None:
        self.put("stock", {"sku": sku, "warehouse": code, "on_hand": on_hand, "reserved": 0, "available": on_hand,
                           "version": version, "events": 0})  # fmt: skip

    def reservation_ids(self, reference: str) -> list[uuid.UUID]:
        return [uuid.UUID(pointer["sk"]) for pointer in self.db.query("reservations", f"reference#{reference}")]

    def stored_lines(self, reservation_id: uuid.UUID) -> int:
        item = self.db.get("reservations", {"pk": f"reservation#{reservation_id}", "sk": "reservation"})
        return 0 if item is None else len(item["lines"])

    def priority(self, code: str) -> int:
        item = self.db.get("warehouses", {"code": code})
        assert item is not None
        return int(item["priority"])

    def outbox(self, aggregate: str) -> list[dict[str, Any]]:
        return self.db.query("outbox", aggregate)

    def events(self) -> list[OutboxEvent]:
        report = bootstrap.outbox_drain().drain()
        assert not report.failed and not report.waiting, report
        return list(OutboxEvent.objects.order_by("id"))


def _store() -> OrmStore | DynamoDbStore:
    return DynamoDbStore() if bootstrap.config().repository == "dynamodb" else OrmStore()


def _dynamodb() -> DynamoDbStore:
    store = _store()
    assert isinstance(store, DynamoDbStore), "this check is for INVENTORY_REPOSITORY=dynamodb"
    return store


def _raises(error: type[BaseException], action: Callable[[], object]) -> BaseException:
    try:
        action()
    except error as exc:
        return exc
    raise AssertionError(f"{error.__name__} not raised")


def _adjust(warehouse: str, sku: str, delta: int) -> None:
    services.stock_adjust(bootstrap.unit_of_work(), warehouse_code=warehouse, sku=sku, delta=delta, reason="in",
                          actor_id=None)  # fmt: skip


# -- both adapters -------------------------------------------------------------------------------------------------


@check
def level_writes_check_the_version_read() -> None:
    store = _store()
    store.add_warehouse("V1")
    uow = bootstrap.unit_of_work()
    with uow:
        level = uow.inventory.level("V1", "VER-1")
        assert level == StockLevel("V1", "VER-1", 0, 0, 0) and store.stock("V1", "VER-1") in (None, (0, 0, 0))
        uow.inventory.save_levels([level.adjusted(5)])
        uow.commit()
    assert store.stock("V1", "VER-1") == (5, 0, 1)

    def lost_race() -> None:  # the ORM refuses at save_levels, DynamoDB when the unit of work commits
        with uow:
            read = uow.inventory.level("V1", "VER-1")
            store.bump_version("V1", "VER-1")  # another writer, meanwhile
            uow.inventory.save_levels([read.adjusted(1)])
            uow.commit()

    _raises(StaleLevel, lost_race)

    def inserted_meanwhile() -> None:
        with uow:
            assert uow.inventory.levels(["VER-2"], lock=True) == []
            store.insert_level("V1", "VER-2", on_hand=1, version=1)
            uow.inventory.save_levels([StockLevel("V1", "VER-2", 3, 0, 1)])
            uow.commit()

    _raises(StaleLevel, inserted_meanwhile)
    # Nothing of the refused writes is stored. (The other writer's changes stay on DynamoDB, where it really ran
    # apart; on the ORM it could only run inside the locked transaction, so they went with its rollback.)
    assert store.stock("V1", "VER-1")[:2] == (5, 0)  # type: ignore[index]
    assert store.stock("V1", "VER-2") in (None, (1, 0, 1))


@check
def a_change_and_its_event_commit_together_or_not_at_all() -> None:
    store = _store()
    store.add_warehouse("U1")
    before = len(store.events())
    services.stock_adjust(bootstrap.unit_of_work(), warehouse_code="U1", sku="UOW-1", delta=4, reason="in", actor_id=1)
    events = store.events()
    assert len(events) == before + 1
    assert (events[-1].event_type, events[-1].source, events[-1].aggregate_id, events[-1].sequence) == (
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
    assert store.stock("U1", "UOW-1") == (4, 0, 1)
    assert len(store.events()) == before + 1 and not store.reservation_ids("o")


@check
def reservations_round_trip_with_their_lines() -> None:
    store = _store()
    store.add_warehouse("R1")
    store.add_warehouse("R2")
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
    assert store.stored_lines(reservation.id) == 2
    assert [r.id for r in bootstrap.reader().reservations_of("round-trip", lock=False)] == [reservation.id]


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
    store = _store()
    store.add_warehouse("C1", priority=1)
    store.add_warehouse("C2", priority=2)
    for code, sku, quantity in (("C1", "CC-1", 10), ("C2", "CC-1", 4), ("C1", "CC-2", 8), ("C2", "CC-2", 8)):
        _adjust(code, sku, quantity)

    def reserve(n: int) -> object:
        lines = [("CC-1", 2), ("CC-2", 2)] if n % 2 else [("CC-2", 2), ("CC-1", 2)]  # opposite orders
        return services.reservation_create(bootstrap.unit_of_work(), reference=f"race-{n}", lines=lines)

    results = _in_threads(10, reserve)
    held = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(held) + len(refused) == 10, [r for r in results if not isinstance(r, Reservation | InsufficientStock)]
    assert len(held) == 7  # CC-1 has 14 units: 7 reservations of 2
    levels = [store.stock(c, s) or (0, 0, 0) for c in ("C1", "C2") for s in ("CC-1", "CC-2")]
    assert levels[0][1] + levels[2][1] == 14  # CC-1 at C1 and C2
    assert all(0 <= reserved <= on_hand for on_hand, reserved, _ in levels), levels


@check
def the_snapshot_lists_what_is_stored() -> None:
    """Reconcile's side of this service: its records in the export's shape, from the store it runs on."""
    _store().add_warehouse("K1", priority=7)
    _adjust("K1", "SNAP-1", 3)
    reservation = services.reservation_create(bootstrap.unit_of_work(), reference="snap", lines=[("SNAP-1", 1)])
    documents = bootstrap.snapshot_documents()
    assert {"code": "K1", "name": "K1", "priority": 7} in list(documents.warehouse_documents())
    level = {"warehouse": "K1", "sku": "SNAP-1", "on_hand": 3, "reserved": 1, "version": 2}
    assert level in list(documents.stock_documents())
    assert reservation_document(reservation) in list(documents.reservation_documents())


@check
def the_replica_keeps_the_newest_level_whatever_the_order() -> None:
    store = _store()
    levels = [
        StockLevel("N1", "NEW-1", 5, 1, 3),
        StockLevel("N1", "NEW-1", 9, 0, 2),
        StockLevel("N1", "NEW-1", 4, 0, 1),
    ]
    for level in levels:
        replica.replica_apply_levels(bootstrap.replica_unit_of_work(), [level])
    assert store.stock("N1", "NEW-1") == (5, 1, 3)
    assert store.priority("N1") == 100


@check
def the_last_unit_sells_exactly_once() -> None:
    _one_unit_of("L1", "LAST-1")

    def reserve(n: int) -> object:
        return services.reservation_create(bootstrap.unit_of_work(), reference=f"last-{n}", lines=[("LAST-1", 1)])

    results = _in_threads(10, reserve)
    held = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert (len(held), len(refused)) == (1, 9), results
    assert all(e.details == {"skus": [{"sku": "LAST-1", "requested": 1, "available": 0}]} for e in refused)
    assert _sold_once("L1", "LAST-1", [f"last-{n}" for n in range(10)]) == held[0].id


def _one_unit_of(warehouse: str, sku: str) -> None:
    _store().add_warehouse(warehouse)
    _adjust(warehouse, sku, 1)


def _sold_once(warehouse: str, sku: str, references: list[str]) -> uuid.UUID:
    """One reservation among ``references`` holds the unit, with its one event; stock never went below zero."""
    store = _store()
    [held] = [i for reference in references for i in store.reservation_ids(reference)]
    assert store.stock(warehouse, sku) == (1, 1, 2)  # on hand 1, reserved 1
    reserved = [e for e in store.events() if e.event_type == "stock.reserved" and f'"{sku}"' in e.payload]
    assert [e.aggregate_id for e in reserved] == [str(held)]
    return held


def _when_told() -> None:
    """Say ready (touch ``READY_FILE``), then wait for ``GO_FILE``: processes started together act at once."""
    Path(os.environ["READY_FILE"]).touch()
    go, deadline = Path(os.environ["GO_FILE"]), time.monotonic() + 120
    while not go.exists():
        assert time.monotonic() < deadline, "never told to go"
        time.sleep(0.005)


# -- DynamoDB ------------------------------------------------------------------------------------------------------


@check
def one_unit_in_stock() -> None:
    _one_unit_of("P1", "LAST-P")


@check
def reserve_the_last_unit_when_told() -> None:
    """One of ten processes racing for the one unit of LAST-P; prints {"held": id} or {"refused": code}."""
    uow = bootstrap.unit_of_work()
    _when_told()
    try:
        reservation = services.reservation_create(uow, reference=os.environ["REFERENCE"], lines=[("LAST-P", 1)])
    except InsufficientStock as exc:
        print(json.dumps({"refused": exc.code}))
    else:
        print(json.dumps({"held": str(reservation.id)}))


@check
def the_last_unit_was_sold_once() -> None:
    _sold_once("P1", "LAST-P", [f"proc-{n}" for n in range(10)])


@check
def a_reservation_and_its_event_commit_together_or_not_at_all() -> None:
    store = _dynamodb()
    store.add_warehouse("T1")
    _adjust("T1", "ATOM-1", 3)
    ok = services.reservation_create(bootstrap.unit_of_work(), reference="atomic-ok", lines=[("ATOM-1", 1)])
    [item] = store.outbox(f"reservation/{ok.id}")  # committed with the stock it holds, before any drain
    assert (item["number"], item["type"], store.stock("T1", "ATOM-1")) == (1, "stock.reserved", (3, 1, 2))

    # The reservation's first event slot is taken (as if a concurrent writer numbered an event there): the
    # transaction carrying the stock change, the reservation and its event must fail whole.
    poisoned = uuid.uuid4()
    planted = {"aggregate": f"reservation/{poisoned}", "number": 1, "event_id": "planted", "type": "x", "body": "{}",
               "committed_at": "2000-01-01T00:00:00+00:00"}  # fmt: skip
    store.put("outbox", planted)
    try:
        uow = bootstrap.unit_of_work()
        _raises(StaleLevel, lambda: services.reservation_create(
            uow, reference="atomic-ko", lines=[("ATOM-1", 2)], new_id=lambda: poisoned))  # fmt: skip
        assert store.stock("T1", "ATOM-1") == (3, 1, 2)
        assert store.reservation_ids("atomic-ko") == [] and bootstrap.reader().reservation(poisoned, lock=False) is None
        assert [i["event_id"] for i in store.outbox(f"reservation/{poisoned}")] == ["planted"]
    finally:
        store.db.client.delete_item(TableName=store.db.name("outbox"), Key=to_attributes(
            {"aggregate": planted["aggregate"], "number": 1}))  # fmt: skip


@check
def dynamodb_refuses_stock_below_zero_whatever_the_caller_computed() -> None:
    store = _dynamodb()
    store.add_warehouse("G1")
    _adjust("G1", "NEG-1", 2)
    uow = bootstrap.unit_of_work()

    def write(change: Callable[[StockLevel], StockLevel]) -> Callable[[], None]:
        def action() -> None:
            with uow:
                level = uow.inventory.level("G1", "NEG-1")
                uow.inventory.save_levels([change(level)])  # a caller's bug: versions right, stock wrong
                uow.commit()

        return action

    _raises(StockInvariantViolated, write(lambda lv: replace(lv, reserved=3, version=lv.version + 1)))
    _raises(StockInvariantViolated, write(lambda lv: replace(lv, on_hand=-1, version=lv.version + 1)))
    _raises(StockInvariantViolated, write(lambda lv: replace(lv, reserved=-1, version=lv.version + 1)))
    assert store.stock("G1", "NEG-1") == (2, 0, 1)

    def new_level_below_zero() -> None:
        with uow:
            uow.inventory.save_levels([StockLevel("G1", "NEG-2", 1, 2, 1)])
            uow.commit()

    _raises(StockInvariantViolated, new_level_below_zero)
    assert store.stock("G1", "NEG-2") is None


@check
def the_drain_moves_an_event_once_even_if_its_item_comes_back() -> None:
    store = _dynamodb()
    store.add_warehouse("D0")
    _adjust("D0", "ONCE-1", 1)
    [item] = store.outbox("stock/D0:ONCE-1")
    before = len(store.events())  # drains it
    assert store.outbox("stock/D0:ONCE-1") == []
    store.put("outbox", item)  # as if a drain had died between publishing it and deleting it
    report = bootstrap.outbox_drain().drain()
    assert (report.moved, report.duplicates) == (0, 1) and store.outbox("stock/D0:ONCE-1") == []
    assert len(store.events()) == before
    published = [e for e in store.events() if e.aggregate_id == "D0:ONCE-1"]
    assert [(e.event_type, e.sequence) for e in published] == [("stock.adjusted", 1)]


@check
def an_event_waits_in_the_outbox() -> None:
    store = _dynamodb()
    store.add_warehouse("W9")
    _adjust("W9", "LOOP-1", 1)
    assert [item["type"] for item in store.outbox("stock/W9:LOOP-1")] == ["stock.adjusted"]


RACE = {("D1", "RACE-1"): 6, ("D2", "RACE-2"): 5}


@check
def prepare_a_drain_race() -> None:
    """Events waiting in the DynamoDB outbox, and only these: adjustments, one reservation and its release."""
    store = _dynamodb()
    store.events()  # drains what earlier checks left
    for (warehouse, sku), count in RACE.items():
        store.add_warehouse(warehouse)
        for _ in range(count):
            _adjust(warehouse, sku, 1)
    reservation = services.reservation_create(bootstrap.unit_of_work(), reference="race-drain", lines=[("RACE-1", 2)])
    services.reservation_release(bootstrap.unit_of_work(), reservation_id=reservation.id)
    assert len(store.outbox(f"reservation/{reservation.id}")) == 2


@check
def drain_when_told() -> None:
    """Two of these started together drain the same items at the same time."""
    drain = bootstrap.outbox_drain()
    _when_told()
    report = drain.drain()
    print(json.dumps({"moved": report.moved, "duplicates": report.duplicates, "failed": report.failed}))


@check
def the_drain_race_published_each_event_once_in_order() -> None:
    store = _dynamodb()
    [reservation_id] = store.reservation_ids("race-drain")
    for (warehouse, sku), count in RACE.items():
        assert store.outbox(f"stock/{warehouse}:{sku}") == []
        events = list(OutboxEvent.objects.filter(aggregate_type="stock", aggregate_id=f"{warehouse}:{sku}"))
        versions = [json.loads(e.payload)["data"]["levels"][0]["version"] for e in sorted(events, key=lambda e: e.id)]
        assert sorted(e.sequence for e in events) == list(range(1, count + 1)), events
        assert versions == list(range(1, count + 1))  # published in the order they were committed
    held = OutboxEvent.objects.filter(aggregate_type="reservation", aggregate_id=str(reservation_id)).order_by("id")
    assert [(e.event_type, e.sequence) for e in held] == [("stock.reserved", 1), ("stock.released", 2)]
    assert store.outbox(f"reservation/{reservation_id}") == []


@check
def a_dry_run_writes_nothing_and_answers_as_a_real_run() -> None:
    from django.test import Client

    store = _dynamodb()
    store.add_warehouse("S1")
    _adjust("S1", "DRY-1", 5)
    events = len(store.events())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {os.environ['STAFF_TOKEN']}")
    shadow = {"X-Strangler-Shadow": "1"}

    def post(path: str, body: Any = None, **headers: str) -> Any:
        return client.post(path, body, content_type="application/json", headers=headers)

    reserve = {"reference": "dry-order", "lines": [{"sku": "DRY-1", "quantity": 2}]}
    dry = post("/api/inventory/reservations/", reserve, **shadow)
    assert (dry.status_code, dry.headers.get("X-Strangler-Dry-Run")) == (201, "1"), dry.content
    adjust = {"warehouse": "S1", "sku": "DRY-1", "delta": 1, "reason": "count"}
    dry_adjustment = post("/api/inventory/adjustments/", adjust, **shadow)
    assert dry_adjustment.status_code == 201, dry_adjustment.content
    assert store.stock("S1", "DRY-1") == (5, 0, 1) and store.reservation_ids("dry-order") == []
    assert store.outbox("stock/S1:DRY-1") == [] and len(store.events()) == events

    real = post("/api/inventory/reservations/", reserve)
    assert real.status_code == 201 and store.stock("S1", "DRY-1") == (5, 2, 2), real.content
    volatile = {"id", "created_at", "updated_at"}
    assert {k: v for k, v in dry.json().items() if k not in volatile} == {
        k: v for k, v in real.json().items() if k not in volatile
    }
    release = post(f"/api/inventory/reservations/{real.json()['id']}/release/", **shadow)
    assert (release.status_code, release.json()["status"]) == (200, "released"), release.content
    assert client.get(f"/api/inventory/reservations/{real.json()['id']}/").json()["status"] == "active"
    assert client.get(f"/api/inventory/reservations/{dry.json()['id']}/").status_code == 404
    assert post("/api/inventory/adjustments/", adjust).json()["id"] == dry_adjustment.json()["id"]  # not used up
    assert store.stock("S1", "DRY-1") == (6, 2, 3)
