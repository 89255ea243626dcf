"""The shipment service's rules and use cases, with an in-memory unit of work."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace, TracebackType
from typing import Any

import pytest

from extracted_services.shipment.domain import (
    TRANSITIONS,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
    new_tracking_number,
)
from extracted_services.shipment.service_layer import services
from extracted_services.shipment.service_layer.services import ShipmentDependencies
from monolith.core.errors import DomainError
from strangler_proxy.buckets import bucket_of
from strangler_proxy.record_ids import embedded_bucket, mint_record_id

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class FakeRepository:
    def __init__(self, store: dict[uuid.UUID, Shipment]) -> None:
        self.store = store
        self.touched: list[Shipment] = []

    def add(self, shipment: Shipment) -> None:
        self.touched.append(shipment)

    def get(self, shipment_id: uuid.UUID, *, customer_id: int | None = None) -> Shipment | None:
        shipment = self.store.get(shipment_id)
        if shipment is None or (customer_id is not None and shipment.customer_id != customer_id):
            return None
        return shipment

    def get_for_update(self, shipment_id: uuid.UUID) -> Shipment | None:
        shipment = self.store.get(shipment_id)
        if shipment is not None:
            self.touched.append(shipment)
        return shipment

    def has_open(self, *, order_id: uuid.UUID, warehouse: str) -> bool:
        return any(s.order_id == order_id and s.warehouse == warehouse and s.is_open for s in self.store.values())


class FakeUnitOfWork:
    def __init__(self, store: dict[uuid.UUID, Shipment], published: list[ShipmentEvent]) -> None:
        self.shipments = FakeRepository(store)
        self.published = published

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def commit(self) -> None:
        for shipment in self.shipments.touched:
            self.shipments.store[shipment.id] = shipment
            self.published.extend(shipment.events)
            shipment.events.clear()


@pytest.fixture
def world() -> Any:
    w = SimpleNamespace(store={}, published=[], now=T0)
    w.deps = ShipmentDependencies(
        uow=lambda: FakeUnitOfWork(w.store, w.published),
        reader=lambda: FakeRepository(w.store),
        new_id=lambda order_id: mint_record_id(bucket_of(str(order_id))),
        clock=lambda: w.now,
    )
    return w


def _create(world: Any, order_id: uuid.UUID | None = None, warehouse: str = "BER-1", **kwargs: Any) -> Shipment:
    lines = kwargs.pop("lines", [("MUG-LOGO", 2), ("CAP-NAVY", 1)])
    return services.shipment_create(
        world.deps, order_id=order_id or uuid.uuid4(), customer_id=7, warehouse=warehouse, lines=lines
    )


def _error(excinfo: pytest.ExceptionInfo[DomainError]) -> tuple[int, str, Any]:
    return excinfo.value.status, excinfo.value.code, excinfo.value.details


def test_create_records_the_shipment_with_sorted_lines_and_its_event(world: Any) -> None:
    order_id = uuid.uuid4()
    shipment = _create(world, order_id)
    assert shipment.lines == (ShipmentLine("CAP-NAVY", 1), ShipmentLine("MUG-LOGO", 2))
    assert (shipment.status, shipment.created_at, shipment.dispatched_at) == ("created", T0, None)
    assert re.fullmatch(r"TRK[0-9A-F]{12}", shipment.tracking_number)
    assert embedded_bucket(shipment.id) == bucket_of(str(order_id))
    assert [(e.type, e.data) for e in world.published] == [
        ("shipment.created", {
            "shipment_id": str(shipment.id), "order_id": str(order_id), "customer_id": 7, "warehouse": "BER-1",
            "status": "created", "tracking_number": shipment.tracking_number,
            "lines": [{"sku": "CAP-NAVY", "quantity": 1}, {"sku": "MUG-LOGO", "quantity": 2}],
        }),
    ]  # fmt: skip


@pytest.mark.parametrize("lines", [[], [("MUG", 0)], [("MUG", 1), ("CAP", -1)]])
def test_lines_must_be_there_and_positive(world: Any, lines: list[tuple[str, int]]) -> None:
    with pytest.raises(DomainError) as excinfo:
        _create(world, lines=lines)
    assert _error(excinfo) == (400, "invalid_shipment_lines", {})
    assert world.store == {}


def test_one_open_shipment_per_order_and_warehouse(world: Any) -> None:
    first = _create(world)
    with pytest.raises(DomainError) as excinfo:
        _create(world, first.order_id)
    assert _error(excinfo)[:2] == (409, "shipment_exists")
    assert str(excinfo.value) == f"Order {first.order_id} already has a shipment from BER-1."
    assert _create(world, first.order_id, warehouse="HAM-1").warehouse == "HAM-1"
    services.shipment_cancel(world.deps, shipment_id=first.id)
    assert _create(world, first.order_id).id != first.id


def test_created_dispatched_delivered_each_dated(world: Any) -> None:
    shipment = _create(world)
    world.now = T0 + timedelta(hours=1)
    services.shipment_dispatch(world.deps, shipment_id=shipment.id)
    world.now = T0 + timedelta(hours=2)
    services.shipment_deliver(world.deps, shipment_id=shipment.id)
    assert (shipment.status, shipment.dispatched_at, shipment.delivered_at) == (
        "delivered", T0 + timedelta(hours=1), T0 + timedelta(hours=2),
    )  # fmt: skip
    assert [e.type for e in world.published] == ["shipment.created", "shipment.dispatched", "shipment.delivered"]
    with pytest.raises(DomainError) as excinfo:
        services.shipment_cancel(world.deps, shipment_id=shipment.id)
    assert _error(excinfo) == (409, "invalid_shipment_transition", {"from": "delivered", "to": "cancelled"})
    assert str(excinfo.value) == "A delivered shipment cannot become cancelled."


def test_cancel_is_idempotent_and_final(world: Any) -> None:
    shipment = _create(world)
    for _ in range(2):
        assert services.shipment_cancel(world.deps, shipment_id=shipment.id).status == "cancelled"
    assert [e.type for e in world.published] == ["shipment.created", "shipment.cancelled"]
    with pytest.raises(DomainError) as excinfo:
        services.shipment_dispatch(world.deps, shipment_id=shipment.id)
    assert _error(excinfo) == (409, "invalid_shipment_transition", {"from": "cancelled", "to": "dispatched"})


@pytest.mark.parametrize("start", list(ShipmentStatus))
@pytest.mark.parametrize("target", [ShipmentStatus.DISPATCHED, ShipmentStatus.DELIVERED])
def test_only_the_transition_table_s_moves_happen(start: ShipmentStatus, target: ShipmentStatus) -> None:
    shipment = Shipment(
        id=uuid.uuid4(), order_id=uuid.uuid4(), customer_id=1, warehouse="W", status=start,
        tracking_number=new_tracking_number(), lines=(ShipmentLine("MUG", 1),), created_at=T0,
    )  # fmt: skip
    move = shipment.dispatch if target is ShipmentStatus.DISPATCHED else shipment.deliver
    if target in TRANSITIONS[start]:
        move(now=T0)
        assert shipment.status is target
    else:
        with pytest.raises(DomainError):
            move(now=T0)
        assert shipment.status is start and shipment.events == []


def test_unknown_and_other_customers_shipments_are_not_found(world: Any) -> None:
    shipment = _create(world)
    assert services.shipment_get(world.deps, shipment_id=shipment.id, customer_id=7) is shipment
    for call in (
        lambda: services.shipment_get(world.deps, shipment_id=shipment.id, customer_id=8),
        lambda: services.shipment_dispatch(world.deps, shipment_id=uuid.uuid4()),
        lambda: services.shipment_cancel(world.deps, shipment_id=uuid.uuid4()),
    ):
        with pytest.raises(DomainError) as excinfo:
            call()
        assert _error(excinfo) == (404, "shipment_not_found", {})


def test_a_replicated_document_dates_each_move_by_the_event_that_showed_it() -> None:
    created = Shipment.create(
        id=uuid.uuid4(), order_id=uuid.uuid4(), customer_id=1, warehouse="W", lines=[("MUG", 1)],
        tracking_number="TRK000000000001", now=T0,
    )  # fmt: skip
    replica = Shipment.from_document(created.document(), at=T0)
    assert replica.document() == created.document() and replica.created_at == T0
    delivered = {**created.document(), "status": "delivered"}
    later = T0 + timedelta(hours=3)
    moved = Shipment.from_document(delivered, at=later, previous=replica)
    assert (moved.created_at, moved.dispatched_at, moved.delivered_at, moved.cancelled_at) == (T0, later, later, None)
    again = Shipment.from_document(delivered, at=later + timedelta(hours=1), previous=moved)
    assert (again.dispatched_at, again.delivered_at) == (later, later)
