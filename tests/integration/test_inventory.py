from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from monolith.inventory.models import Reservation, StockAdjustment
from tests.integration.helpers import stock_levels

pytestmark = pytest.mark.django_db


def test_stock_of_a_sku_per_warehouse_and_total(shop: Any) -> None:
    response = APIClient().get("/api/inventory/stock/MUG/")
    assert response.status_code == 200
    assert response.json() == {
        "sku": "MUG",
        "total": {"on_hand": 10, "reserved": 0, "available": 10},
        "warehouses": [
            {"warehouse": "A", "on_hand": 5, "reserved": 0, "available": 5},
            {"warehouse": "B", "on_hand": 5, "reserved": 0, "available": 5},
        ],
    }


def test_unknown_sku_is_404(shop: Any) -> None:
    response = APIClient().get("/api/inventory/stock/NOPE/")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "sku_not_found")


def test_adjustment_records_reason_actor_and_result(shop: Any, staff: Any, client_for: Any) -> None:
    body = {"warehouse": "A", "sku": "MUG", "delta": -2, "reason": "damaged in stock count"}
    response = client_for(staff).post("/api/inventory/adjustments/", body, format="json")

    assert response.status_code == 201
    assert response.json()["on_hand_after"] == 3
    adjustment = StockAdjustment.objects.get(pk=response.json()["id"])
    assert (adjustment.reason, adjustment.actor_id) == ("damaged in stock count", staff.pk)
    assert stock_levels()[("A", "MUG")] == (3, 0)


def test_adjustment_cannot_take_stock_below_what_is_reserved(shop: Any, staff: Any, client_for: Any) -> None:
    ops = client_for(staff)
    ops.post(
        "/api/inventory/reservations/", {"reference": "o1", "lines": [{"sku": "MUG", "quantity": 4}]}, format="json"
    )
    body = {"warehouse": "A", "sku": "MUG", "delta": -2, "reason": "count"}

    response = ops.post("/api/inventory/adjustments/", body, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "adjustment_below_reserved")
    assert stock_levels()[("A", "MUG")] == (5, 4)


def test_adjustment_in_unknown_warehouse_is_404(shop: Any, staff: Any, client_for: Any) -> None:
    body = {"warehouse": "ZZ", "sku": "MUG", "delta": 1, "reason": "count"}
    assert client_for(staff).post("/api/inventory/adjustments/", body, format="json").status_code == 404


def test_reserve_and_release(shop: Any, staff: Any, client_for: Any) -> None:
    ops = client_for(staff)
    created = ops.post(
        "/api/inventory/reservations/",
        {"reference": "cart-9", "lines": [{"sku": "TEE", "quantity": 3}, {"sku": "TEE", "quantity": 1}]},
        format="json",
    )
    assert created.status_code == 201
    reservation = created.json()
    assert [(line["warehouse"], line["quantity"]) for line in reservation["lines"]] == [("B", 4)]
    assert stock_levels()[("B", "TEE")] == (10, 4)

    fetched = ops.get(f"/api/inventory/reservations/{reservation['id']}/")
    assert fetched.json()["reference"] == "cart-9"
    released = ops.post(f"/api/inventory/reservations/{reservation['id']}/release/")
    assert released.json()["status"] == "released"
    assert stock_levels()[("B", "TEE")] == (10, 0)
    assert ops.post(f"/api/inventory/reservations/{reservation['id']}/release/").status_code == 200
    assert stock_levels()[("B", "TEE")] == (10, 0)


def test_short_reservation_holds_nothing(shop: Any, staff: Any, client_for: Any) -> None:
    body = {"reference": "x", "lines": [{"sku": "MUG", "quantity": 1}, {"sku": "CAP", "quantity": 4}]}
    response = client_for(staff).post("/api/inventory/reservations/", body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["details"]["skus"] == [{"sku": "CAP", "requested": 4, "available": 3}]
    assert Reservation.objects.count() == 0
    assert stock_levels()[("A", "MUG")] == (5, 0)
