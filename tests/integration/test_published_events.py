"""The monolith publishes an event for every state change, in the same transaction, valid per the catalogue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events.catalogue import Catalogue, parse_uri
from events.models import OutboxEvent
from monolith.orders.services import order_cancel, order_place
from monolith.shipments.models import Shipment
from monolith.shipments.services import shipment_deliver, shipment_dispatch

pytestmark = pytest.mark.django_db


def published_since(mark: int) -> list[dict[str, Any]]:
    return [json.loads(row.payload) for row in OutboxEvent.objects.filter(id__gt=mark).order_by("id")]


def mark() -> int:
    last = OutboxEvent.objects.order_by("-id").first()
    return last.id if last else 0


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def test_checkout_publishes_the_whole_story_in_order(shop: Any, alice: Any) -> None:
    start = mark()
    order = order_place(customer_id=alice.pk, lines=[("MUG", 7)], card_token="tok_visa")
    events = published_since(start)

    assert types(events) == [
        "order.placed", "stock.reserved", "payment.authorized", "shipment.created", "shipment.created",
        "order.confirmed",
    ]  # fmt: skip
    for event in events:
        Catalogue.default().validate(*parse_uri(event["dataschema"]), event["data"])
    placed, reserved = events[0], events[1]
    assert (placed["subject"], placed["sequence"], placed["data"]["status"]) == (str(order.id), 1, "pending")
    assert events[-1]["sequence"] == 2 and events[-1]["data"]["status"] == "confirmed"
    assert reserved["data"]["levels"] == [
        {"warehouse": "A", "sku": "MUG", "on_hand": 5, "reserved": 5, "version": 2},
        {"warehouse": "B", "sku": "MUG", "on_hand": 5, "reserved": 2, "version": 2},
    ]
    assert {e["correlationid"] for e in events} == {e["id"] for e in events}  # each is its own root for now


def test_failed_checkout_publishes_nothing(shop: Any, alice: Any) -> None:
    start = mark()
    with pytest.raises(Exception):  # noqa: B017 - the declined payment; the point is what is left behind
        order_place(customer_id=alice.pk, lines=[("MUG", 1)], card_token="tok_chargeDeclined")
    assert published_since(start) == []


def test_dispatch_consumes_stock_and_fulfils_with_events(shop: Any, alice: Any) -> None:
    order = order_place(customer_id=alice.pk, lines=[("MUG", 1)], card_token="tok_visa")
    shipment = Shipment.objects.get(order_id=order.id)
    start = mark()

    shipment_dispatch(shipment_id=shipment.id)
    shipment_deliver(shipment_id=shipment.id)

    events = published_since(start)
    assert types(events) == [
        "shipment.dispatched", "stock.consumed", "payment.captured", "order.fulfilled", "shipment.delivered",
    ]  # fmt: skip
    assert events[1]["data"]["levels"] == [{"warehouse": "A", "sku": "MUG", "on_hand": 4, "reserved": 0, "version": 3}]
    assert events[2]["data"]["captured_amount"] == "12.50"


def test_cancel_publishes_its_compensations(shop: Any, alice: Any) -> None:
    order = order_place(customer_id=alice.pk, lines=[("TEE", 1)], card_token="tok_visa")
    start = mark()

    order_cancel(order_id=order.id, customer_id=alice.pk, reason="too slow")

    events = published_since(start)
    assert types(events) == ["shipment.cancelled", "stock.released", "payment.voided", "order.cancelled"]
    assert events[-1]["data"]["reason"] == "too slow"
    assert events[-1]["sequence"] == 3  # placed, confirmed, cancelled


def test_adjustment_publishes_levels_with_a_growing_version(shop: Any) -> None:
    from monolith.inventory.services import stock_adjust

    start = mark()
    stock_adjust(warehouse_code="A", sku="MUG", delta=3, reason="found a box", actor_id=None)
    stock_adjust(warehouse_code="A", sku="MUG", delta=-1, reason="broken", actor_id=None)

    events = published_since(start)
    assert [(e["subject"], e["sequence"]) for e in events] == [("A:MUG", 2), ("A:MUG", 3)]
    assert [e["data"]["levels"][0]["on_hand"] for e in events] == [8, 7]
    assert [e["data"]["levels"][0]["version"] for e in events] == [2, 3]
