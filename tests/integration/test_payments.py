from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from monolith.payments.models import Payment

pytestmark = pytest.mark.django_db


def authorize(client: Any, token: str = "tok_visa", amount: str = "50.00", **headers: str) -> Any:
    body = {"amount": amount, "currency": "EUR", "card_token": token}
    return client.post("/api/payments/", body, format="json", **headers)


def test_authorise_capture_refund_in_parts(alice: Any, staff: Any, client_for: Any) -> None:
    payment = authorize(client_for(alice)).json()
    assert payment["status"] == "authorized"
    ops = client_for(staff)

    captured = ops.post(f"/api/payments/{payment['id']}/capture/", {"amount": "40.00"}, format="json")
    assert (captured.status_code, captured.json()["captured_amount"]) == (200, "40.00")
    part = ops.post(f"/api/payments/{payment['id']}/refund/", {"amount": "15.00"}, format="json")
    assert (part.json()["status"], part.json()["refunded_amount"]) == ("partially_refunded", "15.00")
    rest = ops.post(f"/api/payments/{payment['id']}/refund/", {}, format="json")
    assert (rest.json()["status"], rest.json()["refunded_amount"]) == ("refunded", "40.00")


def test_refund_beyond_captured_is_refused_and_changes_nothing(alice: Any, staff: Any, client_for: Any) -> None:
    payment_id = authorize(client_for(alice)).json()["id"]
    ops = client_for(staff)
    ops.post(f"/api/payments/{payment_id}/capture/", {}, format="json")

    response = ops.post(f"/api/payments/{payment_id}/refund/", {"amount": "50.01"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "amount_exceeds_limit"
    assert Payment.objects.get(pk=payment_id).refunded_amount == Decimal("0")


@pytest.mark.parametrize(
    ("first", "then", "code"),
    [
        ("void", "capture", "invalid_payment_state"),
        ("capture", "void", "invalid_payment_state"),
    ],
)
def test_state_machine_refuses_invalid_moves(
    alice: Any, staff: Any, client_for: Any, first: str, then: str, code: str
) -> None:
    payment_id = authorize(client_for(alice)).json()["id"]
    ops = client_for(staff)
    assert ops.post(f"/api/payments/{payment_id}/{first}/", {}, format="json").status_code == 200
    response = ops.post(f"/api/payments/{payment_id}/{then}/", {}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, code)


def test_refund_before_capture_is_refused(alice: Any, staff: Any, client_for: Any) -> None:
    payment_id = authorize(client_for(alice)).json()["id"]
    assert client_for(staff).post(f"/api/payments/{payment_id}/refund/", {}, format="json").status_code == 409


def test_declined_authorisation_is_402_and_stores_nothing(alice: Any, client_for: Any) -> None:
    response = authorize(client_for(alice), token="tok_chargeDeclined")
    assert response.status_code == 402
    assert response.json()["error"]["details"]["decline_code"] == "card_declined"
    assert Payment.objects.count() == 0


def test_repeat_with_idempotency_key_never_charges_twice(alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    first = authorize(client, HTTP_IDEMPOTENCY_KEY="pay-1")
    second = authorize(client, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.json() == second.json()
    assert Payment.objects.count() == 1


def test_repeated_capture_with_same_key_replays_instead_of_failing(alice: Any, staff: Any, client_for: Any) -> None:
    payment_id = authorize(client_for(alice)).json()["id"]
    ops = client_for(staff)
    first = ops.post(f"/api/payments/{payment_id}/capture/", {}, format="json", HTTP_IDEMPOTENCY_KEY="cap")
    second = ops.post(f"/api/payments/{payment_id}/capture/", {}, format="json", HTTP_IDEMPOTENCY_KEY="cap")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "-1", "currency": "EUR", "card_token": "tok_visa"},
        {"amount": "10", "currency": "euro", "card_token": "tok_visa"},
        {"amount": "1.001", "currency": "EUR", "card_token": "tok_visa"},
        {"currency": "EUR", "card_token": "tok_visa"},
    ],
)
def test_bad_authorisation_input_is_400(alice: Any, client_for: Any, body: dict[str, str]) -> None:
    response = client_for(alice).post("/api/payments/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert Payment.objects.count() == 0


def test_void_twice_is_harmless(alice: Any, staff: Any, client_for: Any) -> None:
    payment_id = authorize(client_for(alice)).json()["id"]
    ops = client_for(staff)
    assert ops.post(f"/api/payments/{payment_id}/void/", {}, format="json").json()["status"] == "voided"
    assert ops.post(f"/api/payments/{payment_id}/void/", {}, format="json").json()["status"] == "voided"
