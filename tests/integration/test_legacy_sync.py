"""Reverse sync: the services' events, delivered to the ``legacy-sync`` consumer through the real inbox, keep the
monolith's legacy tables current, once, in version order, without publishing anything back."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from events.catalogue import Catalogue
from events.envelope import Envelope
from events.inbox import receive
from events.models import ConsumerPosition, InboxEntry, OutboxEvent
from monolith.inventory.models import Reservation, Stock, Warehouse
from monolith.orders.models import Order
from monolith.orders.services import order_place
from monolith.payments.models import Payment
from monolith.shipments.models import Shipment
from tests.integration.helpers import stock_levels

pytestmark = pytest.mark.django_db

CONSUMER = "legacy-sync"


class Stream:
    """One aggregate's events as a service publishes them: sequence from 1, the catalogue's schema."""

    def __init__(self, source: str, aggregate_type: str, subject: str) -> None:
        self.source, self.aggregate_type, self.subject, self.sequence = source, aggregate_type, subject, 0

    def next(self, event_type: str, data: dict[str, Any]) -> str:
        self.sequence += 1
        envelope = Envelope.new(
            type=event_type, source=self.source, subject=self.subject, data=data, aggregatetype=self.aggregate_type,
            sequence=self.sequence, dataschema=Catalogue.default().uri(event_type, 1),
        )  # fmt: skip
        return envelope.to_json().decode()


def deliver(*bodies: str) -> list[str]:
    return [receive(consumer=CONSUMER, body=body).kind for body in bodies]


def level(warehouse: str, sku: str, on_hand: int, reserved: int, version: int) -> dict[str, Any]:
    return {"warehouse": warehouse, "sku": sku, "on_hand": on_hand, "reserved": reserved, "version": version}


def reservation(reference: str, warehouse: str, sku: str, quantity: int, *levels: dict[str, Any]) -> dict[str, Any]:
    return {
        "reservation_id": str(uuid.uuid4()), "reference": reference, "status": "active",
        "lines": [{"warehouse": warehouse, "sku": sku, "quantity": quantity}], "levels": list(levels),
    }  # fmt: skip


def stock_row(warehouse: str, sku: str) -> tuple[int, int, int]:
    row = Stock.objects.get(warehouse__code=warehouse, sku=sku)
    return row.on_hand, row.reserved, row.version


def published() -> int:
    return OutboxEvent.objects.count()


def test_stock_levels_apply_only_when_newer_and_publish_nothing(db: None) -> None:
    Warehouse.objects.create(code="A", name="Alpha", priority=1)
    adjusted = Stream("inventory-service", "stock", "A:MUG")
    first, second = Stream("inventory-service", "reservation", "r-1"), Stream("inventory-service", "reservation", "r-2")
    before = published()

    assert deliver(
        adjusted.next("stock.adjusted", {"warehouse": "A", "sku": "MUG", "delta": 10, "reason": "count",
                                         "levels": [level("A", "MUG", 10, 0, 1)]}),
    ) == ["handled"]  # fmt: skip
    assert stock_row("A", "MUG") == (10, 0, 1)

    # Two reservations of the same stock row: the inbox orders each aggregate, not the two against each other,
    # so the newer level (version 3) may arrive first. The older one (version 2) must not overwrite it.
    newer = reservation("o-2", "A", "MUG", 3, level("A", "MUG", 10, 5, 3))
    older = reservation("o-1", "A", "MUG", 2, level("A", "MUG", 10, 2, 2))
    assert deliver(second.next("stock.reserved", newer), first.next("stock.reserved", older)) == ["handled"] * 2

    assert stock_row("A", "MUG") == (10, 5, 3)
    assert set(Reservation.objects.values_list("reference", "status")) == {("o-1", "active"), ("o-2", "active")}
    assert published() == before, "reverse sync never echoes a change as the monolith's own event"


def test_a_reservation_follows_its_events_and_a_redelivery_changes_nothing(db: None) -> None:
    for code, priority in (("A", 1), ("B", 2)):
        Warehouse.objects.create(code=code, name=code, priority=priority)
    stream = Stream("inventory-service", "reservation", "r-9")
    reservation_id = str(uuid.uuid4())
    lines = [{"warehouse": "A", "sku": "MUG", "quantity": 5}, {"warehouse": "B", "sku": "MUG", "quantity": 2}]

    def data(status: str, levels: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"reservation_id": reservation_id, "reference": "o-9", "status": status, "lines": lines,
                "levels": levels, **extra}  # fmt: skip

    reserved = stream.next("stock.reserved", data("active", [level("A", "MUG", 5, 5, 4), level("B", "MUG", 5, 2, 4)]))
    # The parcel from A left; B's has not: the reservation stays active with A's lines consumed.
    consumed_a = stream.next("stock.consumed", data("active", [level("A", "MUG", 0, 0, 5)], warehouse="A"))
    consumed_b = stream.next("stock.consumed", data("consumed", [level("B", "MUG", 3, 0, 5)], warehouse="B"))

    assert deliver(reserved, consumed_a) == ["handled", "handled"]
    reservation = Reservation.objects.get(pk=reservation_id)
    assert reservation.status == "active"
    shipped = {(line.warehouse.code, line.quantity, line.consumed) for line in reservation.lines.all()}
    assert shipped == {("A", 5, True), ("B", 2, False)}
    assert stock_levels() == {("A", "MUG"): (0, 0), ("B", "MUG"): (5, 2)}

    assert deliver(consumed_a, reserved) == ["duplicate", "duplicate"]
    assert deliver(consumed_b) == ["handled"]
    reservation.refresh_from_db()
    assert reservation.status == "consumed"
    assert {(line.warehouse.code, line.consumed) for line in reservation.lines.all()} == {("A", True), ("B", True)}
    assert stock_levels() == {("A", "MUG"): (0, 0), ("B", "MUG"): (3, 0)}


def test_payments_and_shipments_are_upserted_and_a_rebuild_replaying_everything_changes_nothing(db: None) -> None:
    payment_id, shipment_id, order_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    payment = Stream("payment-service", "payment", payment_id)
    shipment = Stream("shipment-service", "shipment", shipment_id)
    money = {"payment_id": payment_id, "customer_id": 7, "order_id": order_id, "amount": "25.00", "currency": "EUR",
             "captured_amount": "0.00", "refunded_amount": "0.00"}  # fmt: skip
    parcel = {"shipment_id": shipment_id, "order_id": order_id, "customer_id": 7, "warehouse": "A",
              "tracking_number": "TRKSVC000001", "lines": [{"sku": "MUG", "quantity": 2}]}  # fmt: skip
    bodies = [
        payment.next("payment.authorized", {**money, "status": "authorized"}),
        payment.next("payment.captured", {**money, "status": "captured", "captured_amount": "25.00"}),
        shipment.next("shipment.created", {**parcel, "status": "created"}),
        shipment.next("shipment.delivered", {**parcel, "status": "delivered"}),
    ]
    before = published()

    assert deliver(*bodies) == ["handled"] * 4

    def state() -> tuple[Any, ...]:
        p = Payment.objects.get(pk=payment_id)
        s = Shipment.objects.get(pk=shipment_id)
        return (
            (p.status, str(p.amount), str(p.captured_amount), p.customer_id, str(p.order_id)),
            (s.status, s.warehouse, s.tracking_number, s.dispatched_at, s.delivered_at),
            sorted(s.lines.values_list("sku", "quantity")),
        )

    first = state()
    assert first[0] == ("captured", "25.00", "25.00", 7, order_id)
    assert first[1][:3] == ("delivered", "A", "TRKSVC000001") and first[1][3] and first[1][4]
    assert first[2] == [("MUG", 2)]
    # A rebuild: the consumer's positions and inbox are reset and the whole history delivered again.
    InboxEntry.objects.filter(consumer=CONSUMER).delete()
    ConsumerPosition.objects.filter(consumer=CONSUMER).delete()
    assert deliver(*bodies) == ["handled"] * 4
    assert state() == first
    assert Payment.objects.count() == Shipment.objects.count() == 1
    assert published() == before


def test_the_monolith_ignores_its_own_events_on_legacy_sync(db: None) -> None:
    payment_id = str(uuid.uuid4())
    echo = Stream("monolith/payments", "payment", payment_id).next(
        "payment.authorized",
        {"payment_id": payment_id, "customer_id": 7, "order_id": None, "amount": "5.00", "currency": "EUR",
         "status": "authorized", "captured_amount": "0.00", "refunded_amount": "0.00"},
    )  # fmt: skip
    assert deliver(echo) == ["handled"]
    assert not Payment.objects.exists()


def test_a_shipment_dispatched_by_the_service_runs_the_monolith_reactions(shop: Any, alice: Any) -> None:
    # Shipments moved (their events now come from the shipment service); inventory and payments are the monolith's.
    order = order_place(customer_id=alice.pk, lines=[("MUG", 7)], card_token="tok_visa")  # A: 5, B: 2
    streams = {s.warehouse: (s, Stream("shipment-service", "shipment", str(s.id))) for s in
               Shipment.objects.filter(order_id=order.id)}  # fmt: skip

    def dispatched(warehouse: str) -> str:
        shipment, stream = streams[warehouse]
        stream.sequence = 1  # created was its first event
        return stream.next("shipment.dispatched", {
            "shipment_id": str(shipment.id), "order_id": str(order.id), "customer_id": alice.pk,
            "warehouse": warehouse, "status": "dispatched", "tracking_number": shipment.tracking_number,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in shipment.lines.all()],
        })  # fmt: skip

    assert deliver(dispatched("A")) == ["handled"]
    assert stock_levels()[("A", "MUG")] == (0, 0), "the stock held at A left with the parcel"
    assert Order.objects.get(pk=order.id).status == "confirmed"

    body = dispatched("B")
    assert deliver(body, body) == ["handled", "duplicate"]
    assert Order.objects.get(pk=order.id).status == "fulfilled"
    assert Payment.objects.get(pk=order.payment_id).status == "captured"
    assert Reservation.objects.get(pk=order.reservation_id).status == "consumed"
    assert stock_levels()[("B", "MUG")] == (3, 0)
    own = OutboxEvent.objects.filter(event_type__in=["stock.consumed", "order.fulfilled", "payment.captured"])
    assert sorted(own.values_list("event_type", flat=True)) == [
        "order.fulfilled", "payment.captured", "stock.consumed", "stock.consumed",
    ], "the reactions are the monolith's own changes, published as such"  # fmt: skip
