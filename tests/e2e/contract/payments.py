"""The payments API's contract: authorise, read, capture, void, refund; customers see only their own payments.

Every case creates the payments it works on, with a fresh order id, so it needs no seeded payments.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.contract.target import Target, error_of, subject_of

FIELDS = {
    "id", "customer_id", "order_id", "amount", "currency", "status", "captured_amount", "refunded_amount",
    "created_at", "updated_at",
}  # fmt: skip


def _authorize(t: Target, *, amount: str = "19.90", card: str = "tok_visa", user: str = "alice") -> Any:
    body = {"amount": amount, "currency": "EUR", "card_token": card, "order_id": str(uuid.uuid4())}
    response = t.call("POST", "/api/payments/", user=user, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def authorize_charges_the_caller(t: Target) -> None:
    order_id = str(uuid.uuid4())
    body = {"amount": "19.90", "currency": "EUR", "card_token": "tok_visa", "order_id": order_id}
    response = t.call("POST", "/api/payments/", user="alice", json=body)
    assert response.status_code == 201, response.text
    payment = response.json()
    assert set(payment) == FIELDS
    assert {k: payment[k] for k in FIELDS - {"id", "created_at", "updated_at"}} == {
        "customer_id": subject_of(t.tokens["alice"]), "order_id": order_id, "amount": "19.90", "currency": "EUR",
        "status": "authorized", "captured_amount": "0.00", "refunded_amount": "0.00",
    }  # fmt: skip
    assert t.call("GET", f"/api/payments/{payment['id']}/", user="alice").json() == payment


def authorize_errors(t: Target) -> None:
    def post(user: str | None = "alice", **body: object) -> Any:
        base = {"amount": "10.00", "currency": "EUR", "card_token": "tok_visa"}
        return t.call("POST", "/api/payments/", user=user, json={**base, **body})

    declined = post(card_token="tok_chargeDeclined")
    assert error_of(declined) == (402, "payment_declined")
    assert declined.json()["error"]["details"] == {"decline_code": "card_declined"}
    assert post(card_token="tok_insufficientFunds").json()["error"]["details"] == {"decline_code": "insufficient_funds"}
    invalid = post(amount="0.00", currency="eur")
    assert error_of(invalid) == (400, "validation_error")
    assert set(invalid.json()["error"]["details"]) == {"amount", "currency"}
    assert error_of(post(user=None)) == (401, "not_authenticated")


def retried_gateway_errors_are_invisible(t: Target) -> None:
    payment = _authorize(t, card="tok_processingError")
    assert payment["status"] == "authorized"


def customers_see_only_their_own_payments(t: Target) -> None:
    payment = _authorize(t)
    assert error_of(t.call("GET", f"/api/payments/{payment['id']}/", user="bob")) == (404, "payment_not_found")
    assert t.call("GET", f"/api/payments/{payment['id']}/", user="staff").json() == payment
    assert error_of(t.call("GET", f"/api/payments/{payment['id']}/")) == (401, "not_authenticated")
    unknown = f"/api/payments/{uuid.uuid4()}/"
    assert error_of(t.call("GET", unknown, user="staff")) == (404, "payment_not_found")


def capture_then_refund_in_parts(t: Target) -> None:
    payment = _authorize(t)
    path = f"/api/payments/{payment['id']}"
    assert error_of(t.call("POST", f"{path}/capture/", user="alice", json={})) == (403, "permission_denied")
    captured = t.call("POST", f"{path}/capture/", user="staff", json={})
    assert captured.status_code == 200, captured.text
    assert (captured.json()["status"], captured.json()["captured_amount"]) == ("captured", "19.90")
    again = t.call("POST", f"{path}/capture/", user="staff", json={})
    assert error_of(again) == (409, "invalid_payment_state")
    assert again.json()["error"]["details"] == {"status": "captured"}
    part = t.call("POST", f"{path}/refund/", user="staff", json={"amount": "5.00"})
    assert (part.json()["status"], part.json()["refunded_amount"]) == ("partially_refunded", "5.00")
    too_much = t.call("POST", f"{path}/refund/", user="staff", json={"amount": "20.00"})
    assert error_of(too_much) == (409, "amount_exceeds_limit")
    assert too_much.json()["error"]["details"] == {"limit": "14.90"}
    rest = t.call("POST", f"{path}/refund/", user="staff", json={})
    assert (rest.json()["status"], rest.json()["refunded_amount"]) == ("refunded", "19.90")


def void_is_idempotent_and_final(t: Target) -> None:
    payment = _authorize(t)
    path = f"/api/payments/{payment['id']}"
    for _ in range(2):
        voided = t.call("POST", f"{path}/void/", user="staff")
        assert voided.status_code == 200, voided.text
        assert voided.json()["status"] == "voided"
    assert error_of(t.call("POST", f"{path}/capture/", user="staff", json={})) == (409, "invalid_payment_state")
    assert error_of(t.call("POST", f"/api/payments/{uuid.uuid4()}/void/", user="staff")) == (
        404, "payment_not_found",
    )  # fmt: skip


CASES = [
    authorize_charges_the_caller,
    authorize_errors,
    retried_gateway_errors_are_invisible,
    customers_see_only_their_own_payments,
    capture_then_refund_in_parts,
    void_is_idempotent_and_final,
]
