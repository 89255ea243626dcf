"""Every failure leaves the API as {"error": {"code", "message", "details"}} with the right status."""

from __future__ import annotations

import pytest
from rest_framework import exceptions as drf

from monolith.api.errors import exception_handler
from monolith.core.errors import Conflict, NotFound, PaymentDeclined, UpstreamUnavailable
from monolith.inventory.errors import InsufficientStock


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NotFound("gone", code="order_not_found"), 404, "order_not_found"),
        (Conflict("no"), 409, "conflict"),
        (InsufficientStock("short", details={"skus": []}), 409, "insufficient_stock"),
        (PaymentDeclined("declined"), 402, "payment_declined"),
        (UpstreamUnavailable("down"), 503, "upstream_unavailable"),
        (drf.ValidationError({"sku": ["required"]}), 400, "validation_error"),
        (drf.ParseError(), 400, "malformed_request"),
        (drf.NotAuthenticated(), 401, "not_authenticated"),
        (drf.PermissionDenied(), 403, "permission_denied"),
        (drf.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (drf.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
    ],
)
def test_errors_map_to_status_and_code(exc: Exception, status: int, code: str) -> None:
    response = exception_handler(exc, {})
    assert response is not None
    assert response.status_code == status
    assert response.data["error"]["code"] == code
    assert set(response.data["error"]) == {"code", "message", "details"}


def test_validation_details_name_the_bad_field() -> None:
    response = exception_handler(drf.ValidationError({"sku": ["This field is required."]}), {})
    assert response is not None
    assert response.data["error"]["details"] == {"sku": ["This field is required."]}


def test_unauthenticated_responses_carry_a_bearer_challenge() -> None:
    response = exception_handler(drf.NotAuthenticated(), {})
    assert response is not None
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unexpected_exceptions_are_left_to_the_json_500_handler() -> None:
    assert exception_handler(RuntimeError("bug"), {}) is None
