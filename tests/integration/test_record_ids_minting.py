"""Payments and shipments made for an order carry the order's bucket in their ids, so calls naming only the
record are routed to the side that owns the order."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from monolith.payments.services import payment_authorize
from monolith.shipments.services import shipment_create
from strangler_proxy.buckets import bucket_of
from strangler_proxy.model import Side
from strangler_proxy.record_ids import embedded_bucket, embedded_creator

pytestmark = pytest.mark.django_db


def test_a_payment_for_an_order_embeds_the_orders_bucket() -> None:
    order_id = uuid.uuid4()
    payment = payment_authorize(
        customer_id=1, amount=Decimal("5.00"), currency="EUR", card_token="tok_visa", order_id=order_id
    )
    assert payment.id.version == 8
    assert embedded_bucket(payment.id) == bucket_of(str(order_id))
    assert embedded_creator(payment.id) is Side.MONOLITH, "it stays with the monolith until cut-over"


def test_a_payment_without_an_order_keeps_a_random_id() -> None:
    payment = payment_authorize(customer_id=1, amount=Decimal("5.00"), currency="EUR", card_token="tok_visa")
    assert payment.id.version == 4
    assert embedded_bucket(payment.id) is None


def test_every_shipment_of_an_order_embeds_the_orders_bucket() -> None:
    order_id = uuid.uuid4()
    shipments = [shipment_create(order_id=order_id, customer_id=1, warehouse=w, lines=[("MUG", 1)]) for w in ("A", "B")]
    assert {embedded_bucket(s.id) for s in shipments} == {bucket_of(str(order_id))}
    assert {embedded_creator(s.id) for s in shipments} == {Side.MONOLITH}
    assert shipments[0].id != shipments[1].id


def test_minted_ids_work_through_the_api(staff: Any, client_for: Any) -> None:
    client = client_for(staff)
    order_id = str(uuid.uuid4())
    body = {"amount": "8.00", "currency": "EUR", "card_token": "tok_visa", "order_id": order_id}

    payment = client.post("/api/payments/", body, format="json").json()
    captured = client.post(f"/api/payments/{payment['id']}/capture/", {}, format="json")
    shipment = client.post(
        "/api/shipments/",
        {"order_id": order_id, "customer_id": 1, "warehouse": "A", "lines": [{"sku": "MUG", "quantity": 1}]},
        format="json",
    ).json()
    cancelled = client.post(f"/api/shipments/{shipment['id']}/cancel/", {}, format="json")

    assert embedded_bucket(payment["id"]) == embedded_bucket(shipment["id"]) == bucket_of(order_id)
    assert (captured.status_code, captured.json()["status"]) == (200, "captured")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
