"""Dry-run writes: ``X-Strangler-Shadow: 1`` answers as the write would and leaves nothing behind."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from events.models import AggregateSequence, OutboxEvent
from monolith.api.dry_run import is_dry_run
from monolith.core.models import IdempotencyRecord
from monolith.inventory.models import Reservation, ReservationLine
from monolith.payments import gateway
from monolith.payments.models import Payment
from monolith.payments.services import payment_authorize
from monolith.shipments.models import Shipment, ShipmentLine
from tests.integration.helpers import stock_levels

pytestmark = pytest.mark.django_db

SHADOW = {"HTTP_X_STRANGLER_SHADOW": "1"}


def everything() -> dict[str, Any]:
    return {
        "events": OutboxEvent.objects.count(),
        "sequences": sorted(AggregateSequence.objects.values_list("aggregate_type", "aggregate_id", "last_sequence")),
        "stock": stock_levels(),
        "reservations": Reservation.objects.count() + ReservationLine.objects.count(),
        "payments": sorted(Payment.objects.values_list("id", "status", "captured_amount")),
        "shipments": Shipment.objects.count() + ShipmentLine.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


class NoCharges(gateway.FakeGateway):
    """The real (fake) gateway, failing the test if a dry run reaches it."""

    def authorize(self, **kwargs: Any) -> gateway.Authorization:
        raise AssertionError("a dry run reached the payment gateway")

    def capture(self, **kwargs: Any) -> None:
        raise AssertionError("a dry run reached the payment gateway")


@pytest.fixture
def no_charges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway, "_fake", NoCharges())


RESERVATION = ("/api/inventory/reservations/", {"reference": "o-1", "lines": [{"sku": "MUG", "quantity": 7}]})
PAYMENT = ("/api/payments/", {"amount": "12.50", "currency": "EUR", "card_token": "tok_visa"})
SHIPMENT = (
    "/api/shipments/",
    {"order_id": str(uuid.uuid4()), "customer_id": 1, "warehouse": "A", "lines": [{"sku": "MUG", "quantity": 2}]},
)


@pytest.mark.parametrize(("path", "body"), [RESERVATION, PAYMENT, SHIPMENT], ids=["reservation", "payment", "shipment"])
def test_a_dry_run_write_answers_201_and_leaves_no_row_event_or_key(
    shop: Any, staff: Any, client_for: Any, no_charges: None, path: str, body: dict[str, Any]
) -> None:
    client = client_for(staff)
    before = everything()

    response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="shadow-1", **SHADOW)

    assert response.status_code == 201, response.content
    assert response["X-Strangler-Dry-Run"] == "1"
    assert uuid.UUID(response.json()["id"])
    assert everything() == before
    assert not is_dry_run()


@pytest.mark.parametrize(("path", "body"), [RESERVATION, SHIPMENT], ids=["reservation", "shipment"])
def test_a_normal_request_after_a_dry_run_writes_and_is_not_a_replay(
    shop: Any, staff: Any, client_for: Any, path: str, body: dict[str, Any]
) -> None:
    client = client_for(staff)
    dry = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="same-key", **SHADOW)
    before = everything()

    real = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")

    assert real.status_code == 201
    assert "Idempotent-Replayed" not in real and "X-Strangler-Dry-Run" not in real
    assert real.json()["id"] != dry.json()["id"]
    after = everything()
    assert after["events"] > before["events"] and after["idempotency"] == before["idempotency"] + 1


def test_a_dry_run_payment_is_declined_by_the_same_token_table(
    db: None, alice: Any, client_for: Any, no_charges: None
) -> None:
    body = {**PAYMENT[1], "card_token": "tok_insufficientFunds"}
    response = client_for(alice).post("/api/payments/", body, format="json", **SHADOW)

    assert response.status_code == 402
    assert response.json()["error"]["details"] == {"decline_code": "insufficient_funds"}
    assert response["X-Strangler-Dry-Run"] == "1"


def test_a_dry_run_capture_changes_nothing_and_charges_nobody(
    db: None, alice: Any, staff: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = payment_authorize(customer_id=alice.pk, amount=Decimal("9.00"), currency="EUR", card_token="tok_visa")
    monkeypatch.setattr(gateway, "_fake", NoCharges())
    before = everything()

    response = client_for(staff).post(f"/api/payments/{payment.id}/capture/", {}, format="json", **SHADOW)

    assert (response.status_code, response.json()["status"]) == (200, "captured")
    assert everything() == before
    assert Payment.objects.get(pk=payment.id).status == "authorized"


def test_a_refused_dry_run_write_answers_its_error(shop: Any, staff: Any, client_for: Any) -> None:
    body = {"reference": "o-2", "lines": [{"sku": "MUG", "quantity": 99}]}
    response = client_for(staff).post("/api/inventory/reservations/", body, format="json", **SHADOW)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "insufficient_stock")
    assert response["X-Strangler-Dry-Run"] == "1"


@pytest.mark.parametrize("value", ["0", "true", "", "11"])
def test_only_the_value_1_asks_for_a_dry_run(shop: Any, staff: Any, client_for: Any, value: str) -> None:
    response = client_for(staff).post(RESERVATION[0], RESERVATION[1], format="json", HTTP_X_STRANGLER_SHADOW=value)
    assert response.status_code == 201 and "X-Strangler-Dry-Run" not in response
    assert Reservation.objects.filter(pk=response.json()["id"]).exists()


def test_a_dry_run_read_is_marked_too(shop: Any) -> None:
    response = Client().get("/api/inventory/stock/MUG/", headers={"X-Strangler-Shadow": "1"})
    assert (response.status_code, response["X-Strangler-Dry-Run"]) == (200, "1")
