"""The shipments API's contract: staff create and move shipments; customers read only their own.

Every case creates the shipments it works on, for a fresh order id, so it needs no seeded shipments.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.e2e.contract.target import Target, error_of, subject_of

FIELDS = {
    "id", "order_id", "customer_id", "warehouse", "status", "tracking_number", "lines", "created_at",
    "dispatched_at", "delivered_at", "cancelled_at",
}  # fmt: skip


def _body(t: Target, order_id: str | None = None, warehouse: str = "BER-1") -> dict[str, Any]:
    return {
        "order_id": order_id or str(uuid.uuid4()), "customer_id": subject_of(t.tokens["alice"]),
        "warehouse": warehouse, "lines": [{"sku": "MUG-LOGO", "quantity": 2}, {"sku": "CAP-NAVY", "quantity": 1}],
    }  # fmt: skip


def _create(t: Target, **kwargs: Any) -> Any:
    response = t.call("POST", "/api/shipments/", user="staff", json=_body(t, **kwargs))
    assert response.status_code == 201, response.text
    return response.json()


def create_needs_the_create_permission(t: Target) -> None:
    body = _body(t)
    assert error_of(t.call("POST", "/api/shipments/", json=body)) == (401, "not_authenticated")
    assert error_of(t.call("POST", "/api/shipments/", user="alice", json=body)) == (403, "permission_denied")
    response = t.call("POST", "/api/shipments/", user="staff", json=body)
    assert response.status_code == 201, response.text
    shipment = response.json()
    assert set(shipment) == FIELDS
    assert {k: shipment[k] for k in ("order_id", "customer_id", "warehouse", "status")} == {
        "order_id": body["order_id"], "customer_id": body["customer_id"], "warehouse": "BER-1", "status": "created",
    }  # fmt: skip
    assert shipment["lines"] == [{"sku": "CAP-NAVY", "quantity": 1}, {"sku": "MUG-LOGO", "quantity": 2}]
    assert re.fullmatch(r"TRK[0-9A-F]{12}", shipment["tracking_number"])
    assert shipment["dispatched_at"] is shipment["delivered_at"] is shipment["cancelled_at"] is None


def create_errors(t: Target) -> None:
    shipment = _create(t)
    duplicate = t.call("POST", "/api/shipments/", user="staff", json=_body(t, order_id=shipment["order_id"]))
    assert error_of(duplicate) == (409, "shipment_exists")
    other_warehouse = t.call(
        "POST", "/api/shipments/", user="staff", json=_body(t, order_id=shipment["order_id"], warehouse="HAM-1")
    )
    assert other_warehouse.status_code == 201
    invalid = t.call("POST", "/api/shipments/", user="staff", json={"order_id": "x", "lines": []})
    assert error_of(invalid) == (400, "validation_error")
    assert set(invalid.json()["error"]["details"]) == {"order_id", "customer_id", "warehouse", "lines"}


def customers_read_only_their_own(t: Target) -> None:
    shipment = _create(t)
    path = f"/api/shipments/{shipment['id']}/"
    assert t.call("GET", path, user="alice").json() == shipment
    assert t.call("GET", path, user="staff").json() == shipment
    assert error_of(t.call("GET", path, user="bob")) == (404, "shipment_not_found")
    listed = t.call("GET", f"/api/shipments/?order_id={shipment['order_id']}", user="alice").json()
    assert (listed["count"], listed["results"]) == (1, [shipment])
    assert t.call("GET", f"/api/shipments/?order_id={shipment['order_id']}", user="bob").json()["count"] == 0
    bad = t.call("GET", "/api/shipments/?order_id=not-a-uuid", user="staff")
    assert error_of(bad) == (400, "validation_error")


def shipment_moves_created_dispatched_delivered(t: Target) -> None:
    shipment = _create(t)
    path = f"/api/shipments/{shipment['id']}"
    assert error_of(t.call("POST", f"{path}/dispatch/", user="alice")) == (403, "permission_denied")
    dispatched = t.call("POST", f"{path}/dispatch/", user="staff").json()
    assert dispatched["status"] == "dispatched" and dispatched["dispatched_at"]
    delivered = t.call("POST", f"{path}/deliver/", user="staff").json()
    assert delivered["status"] == "delivered" and delivered["delivered_at"]
    late = t.call("POST", f"{path}/cancel/", user="staff")
    assert error_of(late) == (409, "invalid_shipment_transition")
    assert late.json()["error"]["details"] == {"from": "delivered", "to": "cancelled"}


def cancel_is_idempotent(t: Target) -> None:
    shipment = _create(t)
    path = f"/api/shipments/{shipment['id']}"
    for _ in range(2):
        cancelled = t.call("POST", f"{path}/cancel/", user="staff")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
    assert error_of(t.call("POST", f"{path}/dispatch/", user="staff")) == (409, "invalid_shipment_transition")
    assert error_of(t.call("POST", f"/api/shipments/{uuid.uuid4()}/cancel/", user="staff")) == (
        404, "shipment_not_found",
    )  # fmt: skip


CASES = [
    create_needs_the_create_permission,
    create_errors,
    customers_read_only_their_own,
    shipment_moves_created_dispatched_delivered,
    cancel_is_idempotent,
]
