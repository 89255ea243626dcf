"""The monolith under its production server, driven over HTTP as a customer would."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.processes import LiveMonolith

pytestmark = pytest.mark.e2e


def test_customer_places_an_order_over_http_and_stock_moves(live_monolith: LiveMonolith) -> None:
    base = live_monolith.base_url
    token = live_monolith.token("alice")
    before = httpx.get(f"{base}/api/inventory/stock/MUG-LOGO/").json()["total"]

    response = httpx.post(
        f"{base}/api/orders/",
        json={"lines": [{"sku": "MUG-LOGO", "quantity": 3}], "payment": {"card_token": "tok_visa"}},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "e2e-order-1"},
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["total"] == "37.50"
    after = httpx.get(f"{base}/api/inventory/stock/MUG-LOGO/").json()["total"]
    assert after["reserved"] == before["reserved"] + 3
    assert after["available"] == before["available"] - 3
    fetched = httpx.get(f"{base}/api/orders/{order['id']}/", headers={"Authorization": f"Bearer {token}"})
    assert fetched.json()["id"] == order["id"]


def test_password_login_then_token_use(live_monolith: LiveMonolith) -> None:
    base = live_monolith.base_url
    tokens = httpx.post(f"{base}/api/auth/token/", json={"username": "bob", "password": "bob-password"})
    assert tokens.status_code == 200, tokens.text
    orders = httpx.get(f"{base}/api/orders/", headers={"Authorization": f"Bearer {tokens.json()['access']}"})
    assert orders.status_code == 200
    assert orders.json()["results"] == []


def test_errors_are_json_never_html(live_monolith: LiveMonolith) -> None:
    base = live_monolith.base_url
    for response in (
        httpx.get(f"{base}/no/such/page"),
        httpx.delete(f"{base}/api/catalog/products/"),
        httpx.post(
            f"{base}/api/orders/", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}
        ),
        httpx.post(f"{base}/api/auth/token/", json={"username": "bob", "password": "wrong"}),
    ):
        assert response.headers["content-type"].startswith("application/json"), response.text[:200]
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert (
        httpx.post(
            f"{base}/api/orders/", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}
        ).status_code
        == 413
    )
