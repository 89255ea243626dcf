"""Shipments through their lifecycle, and what the rest of the shop does when they leave."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from monolith.inventory.models import Reservation
from monolith.orders.models import Order
from monolith.orders.services import order_place
from monolith.payments.models import Payment
from monolith.shipments.models import Shipment
from tests.integration.helpers import stock_levels

pytestmark = pytest.mark.django_db


@pytest.fixture
def split_order(shop: Any, alice: Any) -> Order:
    # 7 mugs: 5 from A and 2 from B, so two shipments.
    return order_place(customer_id=alice.pk, lines=[("MUG", 7)], card_token="tok_visa")


def _shipments(order: Order) -> dict[str, Shipment]:
    return {s.warehouse: s for s in Shipment.objects.filter(order_id=order.id)}


def test_order_is_fulfilled_and_payment_captured_once_every_shipment_left(
    split_order: Order, staff: Any, client_for: Any
) -> None:
    ops = client_for(staff)
    shipments = _shipments(split_order)

    assert ops.post(f"/api/shipments/{shipments['A'].id}/dispatch/").status_code == 200
    assert Order.objects.get(pk=split_order.id).status == "confirmed"
    assert stock_levels()[("A", "MUG")] == (0, 0)  # shipped: off the shelf and no longer held
    assert stock_levels()[("B", "MUG")] == (5, 2)

    assert ops.post(f"/api/shipments/{shipments['B'].id}/dispatch/").status_code == 200
    assert Order.objects.get(pk=split_order.id).status == "fulfilled"
    assert Payment.objects.get(pk=split_order.payment_id).status == "captured"
    assert Reservation.objects.get(pk=split_order.reservation_id).status == "consumed"
    assert stock_levels()[("B", "MUG")] == (3, 0)


def test_shipment_lifecycle_and_tracking(split_order: Order, staff: Any, client_for: Any) -> None:
    ops = client_for(staff)
    shipment = _shipments(split_order)["A"]
    assert shipment.tracking_number.startswith("TRK")

    ops.post(f"/api/shipments/{shipment.id}/dispatch/")
    delivered = ops.post(f"/api/shipments/{shipment.id}/deliver/")

    assert delivered.json()["status"] == "delivered"
    assert delivered.json()["dispatched_at"] and delivered.json()["delivered_at"]
    late_cancel = ops.post(f"/api/shipments/{shipment.id}/cancel/")
    assert late_cancel.status_code == 409
    assert late_cancel.json()["error"]["code"] == "invalid_shipment_transition"


def test_deliver_before_dispatch_is_refused(split_order: Order, staff: Any, client_for: Any) -> None:
    shipment = _shipments(split_order)["A"]
    response = client_for(staff).post(f"/api/shipments/{shipment.id}/deliver/")
    assert response.status_code == 409
    assert Shipment.objects.get(pk=shipment.id).status == "created"


def test_staff_creates_and_lists_shipments_by_order(staff: Any, client_for: Any, db: None) -> None:
    ops = client_for(staff)
    order_id = str(uuid.uuid4())
    body = {"order_id": order_id, "customer_id": 7, "warehouse": "A", "lines": [{"sku": "MUG", "quantity": 2}]}

    created = ops.post("/api/shipments/", body, format="json")
    duplicate = ops.post("/api/shipments/", body, format="json")

    assert created.status_code == 201
    assert created.json()["lines"] == [{"sku": "MUG", "quantity": 2}]
    assert duplicate.status_code == 409
    listed = ops.get(f"/api/shipments/?order_id={order_id}").json()["results"]
    assert [s["id"] for s in listed] == [created.json()["id"]]


def test_customer_cancels_and_everything_is_compensated(split_order: Order, alice: Any, client_for: Any) -> None:
    response = client_for(alice).post(
        f"/api/orders/{split_order.id}/cancel/", {"reason": "changed my mind"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Payment.objects.get(pk=split_order.payment_id).status == "voided"
    assert Reservation.objects.get(pk=split_order.reservation_id).status == "released"
    assert {s.status for s in Shipment.objects.filter(order_id=split_order.id)} == {"cancelled"}
    assert stock_levels()[("A", "MUG")] == (5, 0)
    assert stock_levels()[("B", "MUG")] == (5, 0)


def test_cancel_twice_is_harmless(split_order: Order, alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    client.post(f"/api/orders/{split_order.id}/cancel/")
    again = client.post(f"/api/orders/{split_order.id}/cancel/")
    assert again.status_code == 200
    assert stock_levels()[("A", "MUG")] == (5, 0)


def test_cannot_cancel_once_part_has_shipped(split_order: Order, alice: Any, staff: Any, client_for: Any) -> None:
    client_for(staff).post(f"/api/shipments/{_shipments(split_order)['A'].id}/dispatch/")

    response = client_for(alice).post(f"/api/orders/{split_order.id}/cancel/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_already_shipped"
    assert Order.objects.get(pk=split_order.id).status == "confirmed"
    assert Payment.objects.get(pk=split_order.payment_id).status == "authorized"
    assert _shipments(split_order)["B"].status == "created"


def test_fulfilled_order_cannot_be_cancelled(split_order: Order, alice: Any, staff: Any, client_for: Any) -> None:
    for shipment in _shipments(split_order).values():
        client_for(staff).post(f"/api/shipments/{shipment.id}/dispatch/")
    response = client_for(alice).post(f"/api/orders/{split_order.id}/cancel/")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "order_not_cancellable")


def test_order_status_pipeline_refuses_skips() -> None:
    from monolith.orders.status import TRANSITIONS

    assert TRANSITIONS == {
        "pending": {"confirmed", "cancelled"},
        "confirmed": {"fulfilled", "cancelled"},
        "fulfilled": set(),
        "cancelled": set(),
    }
