"""The legacy checkout: all or nothing, in one transaction."""

from __future__ import annotations

from typing import Any

import pytest

from monolith.inventory.models import Reservation
from monolith.payments.models import Payment
from monolith.shipments.models import Shipment
from tests.integration.helpers import order_body, row_counts, stock_levels

pytestmark = pytest.mark.django_db


def place(client: Any, lines: list[tuple[str, int]], token: str = "tok_visa", **headers: str) -> Any:
    return client.post("/api/orders/", order_body(lines, token), format="json", **headers)


def test_checkout_reserves_authorises_ships_and_confirms(shop: Any, alice: Any, client_for: Any) -> None:
    response = place(client_for(alice), [("MUG", 2), ("TEE", 1)])

    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["total"] == "44.90"
    assert order["customer_id"] == alice.pk
    assert [(line["sku"], line["quantity"], line["line_total"]) for line in order["lines"]] == [
        ("MUG", 2, "25.00"),
        ("TEE", 1, "19.90"),
    ]
    payment = Payment.objects.get(pk=order["payment_id"])
    assert (payment.status, str(payment.amount), payment.customer_id) == ("authorized", "44.90", alice.pk)
    # Warehouse A holds both SKUs, so the whole order ships from A in one parcel.
    levels = stock_levels()
    assert levels[("A", "MUG")] == (5, 2)
    assert levels[("A", "TEE")] == (2, 1)
    shipments = Shipment.objects.filter(order_id=order["id"])
    assert [(s.warehouse, s.status) for s in shipments] == [("A", "created")]


def test_order_split_across_warehouses_gets_one_shipment_per_warehouse(shop: Any, alice: Any, client_for: Any) -> None:
    response = place(client_for(alice), [("MUG", 7), ("CAP", 1)])

    assert response.status_code == 201, response.json()
    shipments = {s.warehouse: {line.sku: line.quantity for line in s.lines.all()} for s in Shipment.objects.all()}
    assert shipments == {"A": {"MUG": 5}, "B": {"MUG": 2, "CAP": 1}}


@pytest.mark.parametrize(
    ("lines", "card", "status", "code"),
    [
        ([("MUG", 1)], "tok_chargeDeclined", 402, "payment_declined"),
        ([("MUG", 1)], "tok_insufficientFunds", 402, "payment_declined"),
        ([("MUG", 11)], "tok_visa", 409, "insufficient_stock"),
        ([("NOPE", 1)], "tok_visa", 400, "unknown_sku"),
        ([("OLD", 1)], "tok_visa", 400, "unknown_sku"),
        ([("MUG", 1), ("HAT-US", 1)], "tok_visa", 400, "mixed_currencies"),
        ([("MUG", 0)], "tok_visa", 400, "validation_error"),
        ([], "tok_visa", 400, "validation_error"),
    ],
)
def test_failed_checkout_leaves_nothing_behind(
    shop: Any, alice: Any, client_for: Any, lines: list[tuple[str, int]], card: str, status: int, code: str
) -> None:
    before_stock, before_rows = stock_levels(), row_counts()

    response = place(client_for(alice), lines, card)

    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert stock_levels() == before_stock
    assert row_counts() == before_rows
    assert Reservation.objects.count() == 0


def test_insufficient_stock_details_each_short_sku(shop: Any, alice: Any, client_for: Any) -> None:
    response = place(client_for(alice), [("MUG", 11), ("TEE", 1), ("CAP", 4)])

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {
        "skus": [{"sku": "CAP", "requested": 4, "available": 3}, {"sku": "MUG", "requested": 11, "available": 10}]
    }


def test_declined_payment_reports_the_decline_code(shop: Any, alice: Any, client_for: Any) -> None:
    response = place(client_for(alice), [("MUG", 1)], "tok_insufficientFunds")
    assert response.json()["error"]["details"] == {"decline_code": "insufficient_funds"}


def test_transient_gateway_error_is_retried_and_the_order_goes_through(shop: Any, alice: Any, client_for: Any) -> None:
    response = place(client_for(alice), [("MUG", 1)], "tok_processingError")

    assert response.status_code == 201, response.json()
    assert Payment.objects.get().status == "authorized"


def test_repeated_checkout_with_same_idempotency_key_places_one_order(shop: Any, alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    first = place(client, [("MUG", 2)], HTTP_IDEMPOTENCY_KEY="checkout-1")
    again = place(client, [("MUG", 2)], HTTP_IDEMPOTENCY_KEY="checkout-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert row_counts()["orders"] == 1
    assert Payment.objects.count() == 1
    assert stock_levels()[("A", "MUG")] == (5, 2)


def test_idempotency_key_reused_with_another_body_is_refused(shop: Any, alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    place(client, [("MUG", 1)], HTTP_IDEMPOTENCY_KEY="k")
    response = place(client, [("MUG", 3)], HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert row_counts()["orders"] == 1


def test_keys_are_per_customer(shop: Any, alice: Any, bob: Any, client_for: Any) -> None:
    assert place(client_for(alice), [("MUG", 1)], HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert place(client_for(bob), [("MUG", 1)], HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert row_counts()["orders"] == 2


def test_a_failed_write_does_not_burn_its_idempotency_key(shop: Any, alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    assert place(client, [("MUG", 11)], HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 409
    assert place(client, [("MUG", 1)], HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 201
