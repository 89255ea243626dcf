"""The inventory service's domain and use cases, pure: an in-memory repository, no database."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extracted_services.inventory.domain import errors
from extracted_services.inventory.domain.allocation import Pick, Shortage, allocate
from extracted_services.inventory.domain.events import Event, StockAdjusted, StockConsumed, StockReleased, StockReserved
from extracted_services.inventory.domain.model import (
    Adjustment,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    Warehouse,
    requested_quantities,
)
from extracted_services.inventory.service_layer import queries, replica, services
from extracted_services.inventory.service_layer.unit_of_work import AbstractUnitOfWork
from monolith.inventory import allocation as monolith_allocation

RANK = ["A", "B", "C"]
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


# -- allocation ---------------------------------------------------------------------------------------------------


def test_one_warehouse_that_can_ship_everything_ships_it_all() -> None:
    plan = allocate({"MUG": 2, "TEE": 1}, {("A", "MUG"): 5, ("B", "MUG"): 5, ("B", "TEE"): 1}, RANK)
    assert plan.picks == (Pick("B", "MUG", 2), Pick("B", "TEE", 1))


def test_split_in_rank_order_when_no_single_warehouse_suffices() -> None:
    plan = allocate({"MUG": 7, "TEE": 1}, {("A", "MUG"): 5, ("B", "MUG"): 5, ("C", "TEE"): 1}, RANK)
    assert plan.picks == (Pick("A", "MUG", 5), Pick("B", "MUG", 2), Pick("C", "TEE", 1))


def test_shortages_list_each_short_sku_in_sku_order_and_nothing_is_picked() -> None:
    plan = allocate({"MUG": 11, "TEE": 1, "CAP": 4}, {("A", "MUG"): 5, ("B", "MUG"): 5, ("A", "TEE"): 1}, RANK)
    assert (plan.ok, plan.picks) == (False, ())
    assert plan.shortages == (Shortage("CAP", 4, 0), Shortage("MUG", 11, 10))


skus = st.sampled_from(["X", "Y", "Z"])
stock = st.dictionaries(st.tuples(st.sampled_from(RANK), skus), st.integers(-2, 6), max_size=9)
request = st.dictionaries(skus, st.integers(1, 8), min_size=1)
ranks = st.permutations(RANK)


@given(request, stock, ranks)
def test_picks_and_shortages_are_the_monoliths_for_any_input(
    req: dict[str, int], avail: dict[tuple[str, str], int], rank: list[str]
) -> None:
    ours = allocate(req, avail, rank)
    theirs = monolith_allocation.allocate(req, avail, rank)
    assert [(p.warehouse, p.sku, p.quantity) for p in ours.picks] == list(theirs.picks)
    assert [(s.sku, s.requested, s.available) for s in ours.shortages] == [
        (s.sku, s.requested, s.available) for s in theirs.shortages
    ]


# -- model rules ----------------------------------------------------------------------------------------------------


def test_each_change_of_a_level_bumps_its_version_once() -> None:
    level = StockLevel("A", "MUG", on_hand=5, reserved=1, version=3)
    assert level.adjusted(+2) == StockLevel("A", "MUG", 7, 1, 4)
    assert level.held(2).released(1) == StockLevel("A", "MUG", 5, 2, 5)
    assert level.shipped(1) == StockLevel("A", "MUG", 4, 0, 4)


def test_an_adjustment_must_change_stock_and_cannot_go_below_what_is_reserved() -> None:
    with pytest.raises(errors.ZeroAdjustment) as zero:
        StockLevel("A", "MUG", 5).adjusted(0)
    assert (zero.value.status, zero.value.code, zero.value.message) == (
        400, "zero_adjustment", "An adjustment must change the stock."
    )  # fmt: skip
    with pytest.raises(errors.AdjustmentBelowReserved) as below:
        StockLevel("A", "MUG", on_hand=5, reserved=4).adjusted(-2)
    assert (below.value.status, below.value.code) == (409, "adjustment_below_reserved")
    assert below.value.message == "Stock of MUG at A cannot go below what is reserved."
    assert below.value.details == {"on_hand": 5, "reserved": 4, "delta": -2}


def test_requested_quantities_add_up_per_sku_and_refuse_empty_or_non_positive() -> None:
    assert requested_quantities([("TEE", 3), ("TEE", 1), ("MUG", 2)]) == {"TEE": 4, "MUG": 2}
    with pytest.raises(errors.InvalidQuantity) as bad:
        requested_quantities([("TEE", 0)])
    assert (bad.value.code, bad.value.details) == ("invalid_quantity", {"sku": "TEE"})
    with pytest.raises(errors.EmptyReservation):
        requested_quantities([])


def test_insufficient_stock_has_the_monoliths_message_and_details() -> None:
    error = errors.InsufficientStock([("CAP", 4, 0), ("MUG", 11, 10)])
    assert (error.status, error.code, error.message) == (409, "insufficient_stock", "Not enough stock for: CAP, MUG.")
    assert error.details == {
        "skus": [{"sku": "CAP", "requested": 4, "available": 0}, {"sku": "MUG", "requested": 11, "available": 10}]
    }


def test_a_reservation_ships_per_warehouse_and_is_consumed_once_every_line_shipped() -> None:
    reservation = _reservation(("A", "MUG", 2), ("B", "MUG", 1))
    partly = reservation.ship("A")
    assert (partly.status, [line.consumed for line in partly.lines]) == (ReservationStatus.ACTIVE, [True, False])
    assert partly.ship("B").status is ReservationStatus.CONSUMED
    with pytest.raises(errors.ReservationConsumed):
        partly.ship("B").release()
    assert partly.release().status is ReservationStatus.RELEASED  # its open line gives stock back


# -- use cases over an in-memory repository -----------------------------------------------------------------------


class MemoryRepository:
    """``InventoryRepository`` in memory, with the version check of ``save_levels``."""

    def __init__(self) -> None:
        self.warehouse_rows: dict[str, Warehouse] = {}
        self.stock: dict[tuple[str, str], StockLevel] = {}
        self.reservation_rows: dict[uuid.UUID, Reservation] = {}
        self.adjustments: list[Adjustment] = []
        self.read: dict[tuple[str, str], int] = {}

    def warehouses(self) -> Sequence[Warehouse]:
        return sorted(self.warehouse_rows.values(), key=lambda w: w.rank)

    def save_warehouse(self, warehouse: Warehouse) -> None:
        self.warehouse_rows[warehouse.code] = warehouse

    def level(self, warehouse: str, sku: str) -> StockLevel:
        if warehouse not in self.warehouse_rows:
            raise errors.WarehouseNotFound(warehouse)
        level = self.stock.get((warehouse, sku), StockLevel(warehouse, sku))
        self.read[level.key] = level.version
        return level

    def levels(self, skus: Collection[str], *, lock: bool) -> list[StockLevel]:
        found = [level for level in self.stock.values() if level.sku in skus]
        self.read.update({level.key: level.version for level in found})
        return found

    def save_levels(self, levels: Iterable[StockLevel]) -> None:
        for level in levels:
            stored = self.stock.get(level.key)
            if (stored.version if stored else 0) != self.read.get(level.key, 0):
                raise errors.StaleLevel(*level.key)
            self.stock[level.key] = level
            self.read[level.key] = level.version

    def reservation(self, reservation_id: uuid.UUID, *, lock: bool) -> Reservation | None:
        return self.reservation_rows.get(reservation_id)

    def reservations_of(self, reference: str, *, lock: bool) -> list[Reservation]:
        return [r for r in self.reservation_rows.values() if r.reference == reference]

    def save_reservation(self, reservation: Reservation) -> Reservation:
        stamped = replace(
            reservation, created_at=reservation.created_at or NOW, updated_at=reservation.updated_at or NOW
        )
        self.reservation_rows[reservation.id] = stamped
        return stamped

    def record_adjustment(self, adjustment: Adjustment) -> Adjustment:
        stored = replace(adjustment, id=len(self.adjustments) + 1, created_at=NOW)
        self.adjustments.append(stored)
        return stored


class MemoryUnitOfWork(AbstractUnitOfWork):
    """Commits by keeping a copy of the repository's state; rolls back by restoring it."""

    def __init__(self, repository: MemoryRepository) -> None:
        super().__init__()
        self.inventory = repository
        self.published: list[Event] = []

    def _begin(self) -> None:
        repo = self.inventory
        assert isinstance(repo, MemoryRepository)
        self._saved = (dict(repo.stock), dict(repo.reservation_rows), list(repo.adjustments), dict(repo.warehouse_rows))
        self._committed = False

    def _commit(self, events: tuple[Event, ...]) -> None:
        self.published.extend(events)
        self._committed = True

    def _end(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        repo = self.inventory
        assert isinstance(repo, MemoryRepository)
        if exc_type is not None or not self._committed:
            repo.stock, repo.reservation_rows, repo.adjustments, repo.warehouse_rows = self._saved


@pytest.fixture
def uow() -> MemoryUnitOfWork:
    repository = MemoryRepository()
    for code, priority in (("A", 1), ("B", 2)):
        repository.save_warehouse(Warehouse(code, code, priority))
    levels = {("A", "MUG"): 5, ("B", "MUG"): 5, ("A", "TEE"): 2, ("B", "TEE"): 10, ("B", "CAP"): 3}
    for (warehouse, sku), quantity in levels.items():
        repository.stock[(warehouse, sku)] = StockLevel(warehouse, sku, on_hand=quantity, version=1)
    return MemoryUnitOfWork(repository)


def _repo(uow: MemoryUnitOfWork) -> MemoryRepository:
    assert isinstance(uow.inventory, MemoryRepository)
    return uow.inventory


def _reservation(*lines: tuple[str, str, int]) -> Reservation:
    return Reservation(
        id=uuid.uuid4(), reference="o-1", status=ReservationStatus.ACTIVE,
        lines=tuple(ReservationLine(w, sku, quantity) for w, sku, quantity in lines),
    )  # fmt: skip


def test_adjusting_stock_records_it_and_publishes_stock_adjusted(uow: MemoryUnitOfWork) -> None:
    adjustment = services.stock_adjust(uow, warehouse_code="A", sku="MUG", delta=-2, reason="count", actor_id=7)
    assert (adjustment.id, adjustment.on_hand_after, adjustment.actor_id) == (1, 3, 7)
    assert _repo(uow).stock[("A", "MUG")] == StockLevel("A", "MUG", 3, 0, 2)
    assert uow.published == [StockAdjusted(adjustment, StockLevel("A", "MUG", 3, 0, 2))]


def test_adjusting_a_new_sku_starts_its_level_and_an_unknown_warehouse_is_refused(uow: MemoryUnitOfWork) -> None:
    services.stock_adjust(uow, warehouse_code="B", sku="NEW", delta=4, reason="delivery", actor_id=None)
    assert _repo(uow).stock[("B", "NEW")] == StockLevel("B", "NEW", 4, 0, 1)
    with pytest.raises(errors.WarehouseNotFound) as missing:
        services.stock_adjust(uow, warehouse_code="ZZ", sku="MUG", delta=1, reason="x", actor_id=None)
    assert (missing.value.status, missing.value.code, missing.value.message) == (
        404, "warehouse_not_found", "No warehouse ZZ."
    )  # fmt: skip


def test_reserving_holds_stock_by_warehouse_rank_and_publishes_the_levels_it_moved(uow: MemoryUnitOfWork) -> None:
    reservation = services.reservation_create(uow, reference="cart-9", lines=[("TEE", 3), ("TEE", 1), ("MUG", 2)])
    assert [(line.warehouse, line.sku, line.quantity) for line in reservation.lines] == [
        ("B", "MUG", 2), ("B", "TEE", 4)
    ]  # fmt: skip
    assert _repo(uow).stock[("B", "TEE")] == StockLevel("B", "TEE", 10, 4, 2)
    [event] = uow.published
    assert isinstance(event, StockReserved) and event.reservation == reservation
    assert {level.key: level.reserved for level in event.levels} == {("B", "MUG"): 2, ("B", "TEE"): 4}


def test_a_short_reservation_holds_nothing(uow: MemoryUnitOfWork) -> None:
    before = dict(_repo(uow).stock)
    with pytest.raises(errors.InsufficientStock) as short:
        services.reservation_create(uow, reference="o-2", lines=[("MUG", 3), ("CAP", 4)])
    assert short.value.details == {"skus": [{"sku": "CAP", "requested": 4, "available": 3}]}
    assert (_repo(uow).stock, _repo(uow).reservation_rows, uow.published) == (before, {}, [])


def test_releasing_gives_stock_back_once_and_an_unknown_reservation_is_not_found(uow: MemoryUnitOfWork) -> None:
    reservation = services.reservation_create(uow, reference="o-3", lines=[("MUG", 7)])
    released = services.reservation_release(uow, reservation_id=reservation.id)
    again = services.reservation_release(uow, reservation_id=reservation.id)
    assert (released.status, again.status) == (ReservationStatus.RELEASED, ReservationStatus.RELEASED)
    assert [_repo(uow).stock[(w, "MUG")].reserved for w in "AB"] == [0, 0]
    assert [type(e) for e in uow.published] == [StockReserved, StockReleased]
    with pytest.raises(errors.ReservationNotFound):
        services.reservation_release(uow, reservation_id=uuid.uuid4())


def test_consuming_on_dispatch_takes_held_stock_off_the_shelf_per_warehouse(uow: MemoryUnitOfWork) -> None:
    reservation = services.reservation_create(uow, reference="o-4", lines=[("MUG", 7)])
    assert services.reservation_consume(uow, reference="o-4", warehouse_code="B") == 2
    assert services.reservation_consume(uow, reference="o-4", warehouse_code="B") == 0
    assert _repo(uow).stock[("B", "MUG")] == StockLevel("B", "MUG", 3, 0, 3)
    assert _repo(uow).reservation_rows[reservation.id].status is ReservationStatus.ACTIVE
    assert services.reservation_consume(uow, reference="o-4", warehouse_code="A") == 5
    assert _repo(uow).reservation_rows[reservation.id].status is ReservationStatus.CONSUMED
    consumed = [e for e in uow.published if isinstance(e, StockConsumed)]
    assert [(e.warehouse, e.reservation.status) for e in consumed] == [("B", "active"), ("A", "consumed")]
    with pytest.raises(errors.ReservationConsumed):
        services.reservation_release(uow, reservation_id=reservation.id)


def test_a_level_changed_since_it_was_read_is_not_overwritten(uow: MemoryUnitOfWork) -> None:
    repo = _repo(uow)
    level = repo.level("A", "MUG")
    repo.stock[("A", "MUG")] = level.held(1)  # a concurrent writer
    with pytest.raises(errors.StaleLevel):
        repo.save_levels([level.adjusted(+1)])


def test_stock_reads_rank_warehouses_and_an_unknown_sku_is_not_found(uow: MemoryUnitOfWork) -> None:
    stock = queries.stock_get(uow.inventory, sku="MUG")
    assert ([level.warehouse for level in stock.levels], stock.on_hand, stock.available) == (["A", "B"], 10, 10)
    with pytest.raises(errors.SkuNotFound) as missing:
        queries.stock_get(uow.inventory, sku="NOPE")
    assert (missing.value.code, missing.value.message) == ("sku_not_found", "No stock is kept for SKU NOPE.")


def test_the_replica_stores_only_newer_levels_and_publishes_nothing(uow: MemoryUnitOfWork) -> None:
    stored = replica.replica_apply_levels(
        uow, [StockLevel("A", "MUG", 9, 0, 5), StockLevel("B", "MUG", 1, 0, 1), StockLevel("Q", "NEW", 2, 1, 3)]
    )
    assert stored == 2  # B/MUG's version 1 is not newer than the stored 1
    assert _repo(uow).stock[("A", "MUG")].on_hand == 9
    assert _repo(uow).warehouse_rows["Q"] == Warehouse("Q", "Q")  # met in a document: default priority
    assert uow.published == []


def test_the_replica_keeps_what_it_knows_of_shipped_lines(uow: MemoryUnitOfWork) -> None:
    document = _reservation(("A", "MUG", 2), ("B", "MUG", 1))
    replica.replica_apply_reservation(uow, document, shipped_from="A")
    released = replace(document, status=ReservationStatus.RELEASED)
    replica.replica_apply_reservation(uow, released)
    stored = _repo(uow).reservation_rows[document.id]
    assert (stored.status, [line.consumed for line in stored.lines]) == ("released", [True, False])
