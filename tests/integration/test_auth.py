"""Who may do what: anonymous → 401, wrong role → 403, another customer's record → 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from monolith.orders.services import order_place

pytestmark = pytest.mark.django_db

STAFF_WRITES = [
    ("/api/inventory/adjustments/", {"warehouse": "A", "sku": "MUG", "delta": 1, "reason": "count"}),
    ("/api/inventory/reservations/", {"reference": "r1", "lines": [{"sku": "MUG", "quantity": 1}]}),
    ("/api/payments/{payment}/capture/", {}),
    ("/api/payments/{payment}/void/", {}),
    ("/api/payments/{payment}/refund/", {}),
    ("/api/shipments/", {"order_id": str(uuid.uuid4()), "customer_id": 1, "warehouse": "A", "lines": []}),
    ("/api/shipments/{shipment}/dispatch/", {}),
    ("/api/shipments/{shipment}/deliver/", {}),
    ("/api/shipments/{shipment}/cancel/", {}),
]


@pytest.fixture
def alices_order(shop: Any, alice: Any) -> Any:
    return order_place(customer_id=alice.pk, lines=[("MUG", 1)], card_token="tok_visa")


def _urls(order: Any) -> list[tuple[str, dict[str, Any]]]:
    from monolith.shipments.models import Shipment

    shipment = Shipment.objects.filter(order_id=order.id).first()
    ids = {"payment": order.payment_id, "shipment": shipment.id if shipment else None}
    return [(path.format(**ids), body) for path, body in STAFF_WRITES]


def test_anonymous_writes_get_401_with_json_error(alices_order: Any) -> None:
    client = APIClient()
    for path, body in _urls(alices_order) + [("/api/orders/", {}), ("/api/payments/", {})]:
        response = client.post(path, body, format="json")
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "not_authenticated"


def test_anonymous_reads_of_private_records_get_401(alices_order: Any) -> None:
    client = APIClient()
    for path in ("/api/orders/", f"/api/orders/{alices_order.id}/", f"/api/payments/{alices_order.payment_id}/"):
        assert client.get(path).status_code == 401, path


def test_customers_get_403_on_staff_operations(alices_order: Any, alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    for path, body in _urls(alices_order):
        response = client.post(path, body, format="json")
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"


def test_staff_holding_only_one_permission_gets_403_on_the_others(
    alices_order: Any, make_user: Any, client_for: Any
) -> None:
    client = client_for(make_user("picker", perms=("shipments.dispatch_shipment",), is_staff=True))
    for path, body in _urls(alices_order):
        expected = 403 if not path.endswith("/dispatch/") else 200
        assert client.post(path, body, format="json").status_code == expected, path


def test_another_customers_order_payment_and_shipment_are_not_found(
    alices_order: Any, bob: Any, client_for: Any
) -> None:
    from monolith.shipments.models import Shipment

    client = client_for(bob)
    shipment = Shipment.objects.get(order_id=alices_order.id)
    for path in (
        f"/api/orders/{alices_order.id}/",
        f"/api/payments/{alices_order.payment_id}/",
        f"/api/shipments/{shipment.id}/",
    ):
        assert client.get(path).status_code == 404, path
    response = client.post(f"/api/orders/{alices_order.id}/cancel/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"
    assert client.get("/api/orders/").json()["results"] == []
    assert client.get(f"/api/shipments/?order_id={alices_order.id}").json()["results"] == []


def test_owner_sees_own_records(alices_order: Any, alice: Any, client_for: Any) -> None:
    client = client_for(alice)
    assert client.get(f"/api/orders/{alices_order.id}/").status_code == 200
    assert client.get(f"/api/payments/{alices_order.payment_id}/").status_code == 200
    assert len(client.get(f"/api/shipments/?order_id={alices_order.id}").json()["results"]) == 1


def test_staff_with_view_permission_sees_every_order(alices_order: Any, staff: Any, client_for: Any) -> None:
    assert client_for(staff).get(f"/api/orders/{alices_order.id}/").status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-jwt", "Bearer ", "Basic YWxpY2U6cHc=", "Bearer " + "e30." * 3],
)
def test_bad_tokens_get_401(alices_order: Any, header: str) -> None:
    response = APIClient().get("/api/orders/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "error" in response.json()


def test_token_signed_with_another_key_is_refused(alice: Any) -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = jwt.encode(
        {
            "sub": str(alice.pk),
            "token_type": "access",
            "perms": ["orders.view_order"],
            "exp": 4102444800,
            "iss": "monolith",
            "aud": "shop",
            "jti": "x",
        },
        pem,
        algorithm="RS256",
    )
    assert APIClient().get("/api/orders/", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401


def test_token_endpoint_issues_tokens_whose_claims_carry_permissions(staff: Any) -> None:
    import jwt

    staff.set_password("pw-staff-long")
    staff.save()
    response = APIClient().post("/api/auth/token/", {"username": "staff", "password": "pw-staff-long"}, format="json")
    assert response.status_code == 200
    claims = jwt.decode(response.json()["access"], options={"verify_signature": False})
    assert claims["sub"] == str(staff.pk)
    assert "payments.capture_payment" in claims["perms"]
    assert claims["is_staff"] is True


def test_wrong_password_is_401(alice: Any) -> None:
    response = APIClient().post("/api/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
