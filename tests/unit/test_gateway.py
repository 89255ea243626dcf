from __future__ import annotations

from decimal import Decimal

import pytest

from monolith.payments.gateway import FakeGateway, GatewayTransientError


def authorize(gateway: FakeGateway, token: str, key: str = "k1"):  # type: ignore[no-untyped-def]
    return gateway.authorize(amount=Decimal("10.00"), currency="EUR", card_token=token, idempotency_key=key)


@pytest.mark.parametrize(
    ("token", "approved", "code"),
    [
        ("tok_visa", True, ""),
        ("tok_chargeDeclined", False, "card_declined"),
        ("tok_insufficientFunds", False, "insufficient_funds"),
        ("tok_unknown", False, "invalid_card"),
    ],
)
def test_test_tokens_drive_the_outcome(token: str, approved: bool, code: str) -> None:
    result = authorize(FakeGateway(), token)
    assert (result.approved, result.decline_code) == (approved, code)


def test_processing_error_fails_once_then_succeeds_on_retry() -> None:
    gateway = FakeGateway()
    with pytest.raises(GatewayTransientError):
        authorize(gateway, "tok_processingError")
    assert authorize(gateway, "tok_processingError").approved


def test_same_idempotency_key_returns_the_first_authorization() -> None:
    gateway = FakeGateway()
    first = authorize(gateway, "tok_visa", key="same")
    assert authorize(gateway, "tok_visa", key="same") == first
    assert authorize(gateway, "tok_visa", key="other").reference != first.reference
