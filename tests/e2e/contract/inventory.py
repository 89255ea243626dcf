"""The inventory API's contract: paths, methods, shapes, statuses, error codes and permissions.

Every function takes a ``Target`` holding the demo seed (``manage.py seed_demo``) and asserts exact answers, so
the monolith and the inventory service pass the same assertions or the contract is broken. Each case works on
its own SKUs, so cases do not depend on each other's writes.
"""

from __future__ import annotations

import uuid

from tests.e2e.contract.target import Target, error_of

UNKNOWN = "00000000-0000-4000-8000-000000000000"
RESERVATION_FIELDS = {"id", "reference", "status", "lines", "created_at", "updated_at"}


def stock_read_is_public_and_ordered_by_warehouse_priority(t: Target) -> None:
    response = t.call("GET", "/api/inventory/stock/MUG-LOGO/")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sku": "MUG-LOGO",
        "total": {"on_hand": 110, "reserved": 0, "available": 110},
        "warehouses": [
            {"warehouse": "BER-1", "on_hand": 60, "reserved": 0, "available": 60},
            {"warehouse": "HAM-1", "on_hand": 30, "reserved": 0, "available": 30},
            {"warehouse": "MUC-1", "on_hand": 20, "reserved": 0, "available": 20},
        ],
    }
    assert error_of(t.call("GET", "/api/inventory/stock/NOPE-SKU/")) == (404, "sku_not_found")


def adjustment_needs_the_adjust_permission(t: Target) -> None:
    body = {"warehouse": "BER-1", "sku": "TOTE-CANVAS", "delta": 5, "reason": "recount"}
    assert error_of(t.call("POST", "/api/inventory/adjustments/", json=body)) == (401, "not_authenticated")
    denied = t.call("POST", "/api/inventory/adjustments/", user="alice", json=body)
    assert error_of(denied) == (403, "permission_denied")
    assert denied.json()["error"]["message"] == "This action needs the inventory.adjust_stock permission."
    assert t.call("GET", "/api/inventory/stock/TOTE-CANVAS/").json()["total"]["on_hand"] == 0


def adjustment_changes_on_hand(t: Target) -> None:
    body = {"warehouse": "BER-1", "sku": "CAP-NAVY", "delta": 5, "reason": "recount"}
    response = t.call("POST", "/api/inventory/adjustments/", user="staff", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"id", "warehouse", "sku", "delta", "reason", "on_hand_after", "created_at"}
    assert {k: created[k] for k in ("warehouse", "sku", "delta", "reason", "on_hand_after")} == {
        **body,
        "on_hand_after": 20,
    }
    assert t.call("GET", "/api/inventory/stock/CAP-NAVY/").json()["warehouses"][0] == {
        "warehouse": "BER-1", "on_hand": 20, "reserved": 0, "available": 20,
    }  # fmt: skip


def adjustment_errors(t: Target) -> None:
    def post(**body: object) -> tuple[int, str]:
        base = {"warehouse": "HAM-1", "sku": "SOCKS-3PACK", "delta": 1, "reason": "contract"}
        return error_of(t.call("POST", "/api/inventory/adjustments/", user="staff", json={**base, **body}))

    assert post(delta=0) == (400, "zero_adjustment")
    assert post(warehouse="XXX-1") == (404, "warehouse_not_found")
    assert post(delta=-1000) == (409, "adjustment_below_reserved")
    below = t.call(
        "POST", "/api/inventory/adjustments/", user="staff",
        json={"warehouse": "HAM-1", "sku": "SOCKS-3PACK", "delta": -1000, "reason": "x"},
    )  # fmt: skip
    assert below.json()["error"]["details"] == {"on_hand": 15, "reserved": 0, "delta": -1000}
    invalid = t.call("POST", "/api/inventory/adjustments/", user="staff", json={"warehouse": "HAM-1", "sku": "x"})
    assert error_of(invalid) == (400, "validation_error")
    assert set(invalid.json()["error"]["details"]) == {"sku", "delta", "reason"}
    assert t.call("GET", "/api/inventory/stock/SOCKS-3PACK/").json()["total"]["on_hand"] == 30 + 15 + 10


def reservation_picks_warehouses_by_priority(t: Target) -> None:
    body = {"reference": "contract-1", "lines": [{"sku": "TEE-BLACK-L", "quantity": 30}]}
    response = t.call("POST", "/api/inventory/reservations/", user="staff", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == RESERVATION_FIELDS
    assert uuid.UUID(created["id"])
    assert (created["reference"], created["status"]) == ("contract-1", "active")
    assert created["lines"] == [
        {"warehouse": "BER-1", "sku": "TEE-BLACK-L", "quantity": 25, "consumed": False},
        {"warehouse": "HAM-1", "sku": "TEE-BLACK-L", "quantity": 5, "consumed": False},
    ]
    fetched = t.call("GET", f"/api/inventory/reservations/{created['id']}/", user="staff")
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert t.call("GET", "/api/inventory/stock/TEE-BLACK-L/").json()["total"] == {
        "on_hand": 45, "reserved": 30, "available": 15,
    }  # fmt: skip


def reservation_short_of_stock_holds_nothing(t: Target) -> None:
    lines = [{"sku": "TEE-WHITE-M", "quantity": 1}, {"sku": "NOTEBOOK-A5", "quantity": 1000}]
    response = t.call("POST", "/api/inventory/reservations/", user="staff", json={"reference": "c-2", "lines": lines})
    assert error_of(response) == (409, "insufficient_stock")
    assert response.json()["error"] == {
        "code": "insufficient_stock",
        "message": "Not enough stock for: NOTEBOOK-A5, TEE-WHITE-M.",
        "details": {
            "skus": [
                {"sku": "NOTEBOOK-A5", "requested": 1000, "available": 91},
                {"sku": "TEE-WHITE-M", "requested": 1, "available": 0},
            ]
        },
    }
    assert t.call("GET", "/api/inventory/stock/NOTEBOOK-A5/").json()["total"]["reserved"] == 0
    empty = t.call("POST", "/api/inventory/reservations/", user="staff", json={"reference": "c-3", "lines": []})
    assert error_of(empty) == (400, "validation_error")
    assert empty.json()["error"]["details"] == {"lines": ["This list may not be empty."]}


def reservation_reads_need_permission_and_an_existing_id(t: Target) -> None:
    assert error_of(t.call("GET", f"/api/inventory/reservations/{UNKNOWN}/", user="staff")) == (
        404, "reservation_not_found",
    )  # fmt: skip
    assert error_of(t.call("GET", f"/api/inventory/reservations/{UNKNOWN}/", user="alice")) == (
        403, "permission_denied",
    )  # fmt: skip
    assert error_of(t.call("GET", f"/api/inventory/reservations/{UNKNOWN}/")) == (401, "not_authenticated")
    assert error_of(t.call("POST", f"/api/inventory/reservations/{UNKNOWN}/release/", user="staff")) == (
        404, "reservation_not_found",
    )  # fmt: skip


def release_gives_stock_back_once(t: Target) -> None:
    body = {"reference": "contract-4", "lines": [{"sku": "BOTTLE-STEEL", "quantity": 25}]}
    created = t.call("POST", "/api/inventory/reservations/", user="staff", json=body).json()
    assert t.call("GET", "/api/inventory/stock/BOTTLE-STEEL/").json()["total"]["reserved"] == 25
    for _ in range(2):  # releasing twice is a no-op
        released = t.call("POST", f"/api/inventory/reservations/{created['id']}/release/", user="staff")
        assert released.status_code == 200, released.text
        assert released.json()["status"] == "released"
        assert released.json()["lines"] == created["lines"]
    assert t.call("GET", "/api/inventory/stock/BOTTLE-STEEL/").json()["total"] == {
        "on_hand": 36, "reserved": 0, "available": 36,
    }  # fmt: skip


def idempotency_key_replays_the_first_answer(t: Target) -> None:
    body = {"reference": "contract-5", "lines": [{"sku": "STICKER-PACK", "quantity": 7}]}
    headers = {"Idempotency-Key": "contract-key-5"}
    first = t.call("POST", "/api/inventory/reservations/", user="staff", json=body, headers=headers)
    again = t.call("POST", "/api/inventory/reservations/", user="staff", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert t.call("GET", "/api/inventory/stock/STICKER-PACK/").json()["total"]["reserved"] == 7
    other = t.call(
        "POST", "/api/inventory/reservations/", user="staff", json={**body, "reference": "other"}, headers=headers
    )
    assert error_of(other) == (422, "idempotency_key_reused")


CASES = [
    stock_read_is_public_and_ordered_by_warehouse_priority,
    adjustment_needs_the_adjust_permission,
    adjustment_changes_on_hand,
    adjustment_errors,
    reservation_picks_warehouses_by_priority,
    reservation_short_of_stock_holds_nothing,
    reservation_reads_need_permission_and_an_existing_id,
    release_gives_stock_back_once,
    idempotency_key_replays_the_first_answer,
]
