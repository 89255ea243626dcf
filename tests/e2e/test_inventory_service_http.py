"""The inventory service over HTTP answers as the monolith's inventory API does.

The service runs as a real server (uvicorn, its own SQLite database) holding the same stock as the monolith's
test shop (fed to it as the monolith's ``stock.adjusted`` events); the same requests, with the same tokens, go to
the monolith in process and to the service, and their statuses, bodies (ids and timestamps aside) and contract
headers must be equal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from monolith.api.auth import issue_access_token
from tests.e2e.inventory_service_support import INTERNAL_TOKEN, InventoryService, service_database, stock_adjusted
from tests.e2e.processes import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

SHOP_LEVELS = {("A", "MUG"): 5, ("B", "MUG"): 5, ("A", "TEE"): 2, ("B", "TEE"): 10, ("B", "CAP"): 3, ("A", "HAT-US"): 9}
VOLATILE = ("id", "created_at", "updated_at")
CONTRACT_HEADERS = ("content-type", "idempotent-replayed", "www-authenticate", "allow", "x-strangler-dry-run")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InventoryService]:
    workdir = tmp_path_factory.mktemp("inventory-http")
    with service_database(workdir, postgres=False) as url:
        service = InventoryService.create(workdir, url, MONOLITH_URL=f"http://127.0.0.1:{free_port()}")
        service.start()
        try:
            yield service
        finally:
            service.stop()


@pytest.fixture
def service(server: InventoryService) -> InventoryService:
    """The server, its data reset to the monolith's test shop (warehouses A then B by rank)."""
    server.flush()
    levels = [stock_adjusted(w, sku, on_hand=q, version=1, sequence=1) for (w, sku), q in SHOP_LEVELS.items()]
    assert server.receive(*levels) == {"handled": len(levels)}
    return server


@pytest.fixture
def tokens(staff: Any, alice: Any) -> dict[str | None, str | None]:
    return {"staff": issue_access_token(staff), "alice": issue_access_token(alice), None: None}


@dataclass(frozen=True)
class Step:
    method: str
    path: str  # "{name}" stands for the id of the reservation an earlier step kept under that name
    body: Any = None  # JSON, or str sent as it is
    who: str | None = "staff"
    headers: dict[str, str] = field(default_factory=dict)
    keep: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    def comparable(self) -> tuple[int, Any, dict[str, str]]:
        body = {k: v for k, v in self.body.items() if k not in VOLATILE} if isinstance(self.body, dict) else self.body
        return self.status, body, self.headers


def _answer(status: int, text: bytes, headers: Any) -> Answer:
    body = json.loads(text) if text else None
    return Answer(status, body, {h: headers[h] for h in CONTRACT_HEADERS if h in headers})


def _raw(body: Any) -> str:
    return body if isinstance(body, str) else ("" if body is None else json.dumps(body))


def ask_monolith(step: Step, path: str, token: str | None) -> Answer:
    client = APIClient()
    extra: dict[str, Any] = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in step.headers.items()}
    if token:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    response = client.generic(step.method, path, _raw(step.body), content_type="application/json", **extra)
    return _answer(response.status_code, response.content, {k.lower(): v for k, v in response.headers.items()})


def ask_service(service: InventoryService, step: Step, path: str, token: str | None) -> Answer:
    headers = {"Content-Type": "application/json", **step.headers}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.request(step.method, service.base_url + path, content=_raw(step.body), headers=headers)
    return _answer(response.status_code, response.content, response.headers)


def run_both(service: InventoryService, tokens: dict[str | None, str | None], steps: list[Step]) -> list[Answer]:
    """Each step on both sides; asserts they answer alike; returns the service's answers."""
    kept: dict[str, dict[str, str]] = {"monolith": {}, "service": {}}
    answers = []
    for number, step in enumerate(steps, start=1):
        token = tokens[step.who]
        theirs = ask_monolith(step, step.path.format(**kept["monolith"]), token)
        ours = ask_service(service, step, step.path.format(**kept["service"]), token)
        assert ours.comparable() == theirs.comparable(), f"step {number}: {step.method} {step.path}"
        if step.keep:
            kept["monolith"][step.keep], kept["service"][step.keep] = theirs.body["id"], ours.body["id"]
        answers.append(ours)
    return answers


def test_stock_and_adjustments_answer_as_the_monolith(
    shop: Any, service: InventoryService, tokens: dict[str | None, str | None]
) -> None:
    adjust = "/api/inventory/adjustments/"
    answers = run_both(service, tokens, [
        Step("GET", "/api/inventory/stock/MUG/", who=None),
        Step("GET", "/api/inventory/stock/NOPE/", who=None),
        Step("POST", adjust, {"warehouse": "A", "sku": "MUG", "delta": -2, "reason": "damaged in stock count"}),
        Step("POST", adjust, {"warehouse": "A", "sku": "MUG", "delta": 0, "reason": "nothing"}),
        Step("POST", adjust, {"warehouse": "ZZ", "sku": "MUG", "delta": 1, "reason": "count"}),
        Step("POST", adjust, {"warehouse": "A", "sku": "bad sku", "delta": 1, "reason": "count"}),
        Step("POST", adjust, {"warehouse": "A", "sku": "NEW-1", "delta": 3, "reason": "first delivery"}),
        Step("POST", adjust, {"warehouse": "A", "sku": "MUG", "delta": 1, "reason": "count"}, who="alice"),
        Step("POST", adjust, {"warehouse": "A", "sku": "MUG", "delta": 1, "reason": "count"}, who=None),
        Step("POST", adjust, '{"warehouse": "A", "sku":'),
        Step("DELETE", "/api/inventory/stock/MUG/"),
        Step("GET", "/api/inventory/stock/MUG/", who=None),
        Step("GET", "/api/inventory/stock/NEW-1/", who=None),
    ])  # fmt: skip
    statuses = [a.status for a in answers]
    assert statuses == [200, 404, 201, 400, 404, 400, 201, 403, 401, 400, 405, 200, 200]
    assert answers[2].body["on_hand_after"] == 3 and isinstance(answers[2].body["id"], int)
    assert answers[11].body["total"] == {"on_hand": 8, "reserved": 0, "available": 8}


def test_reservations_answer_as_the_monolith(
    shop: Any, service: InventoryService, tokens: dict[str | None, str | None]
) -> None:
    reserve = "/api/inventory/reservations/"
    answers = run_both(service, tokens, [
        Step("POST", reserve, {"reference": "cart-9", "lines": [{"sku": "TEE", "quantity": 3},
                                                                {"sku": "TEE", "quantity": 1}]}, keep="r1"),
        Step("POST", reserve, {"reference": "o-2", "lines": [{"sku": "MUG", "quantity": 7},
                                                             {"sku": "TEE", "quantity": 1}]}, keep="r2"),
        Step("POST", "/api/inventory/adjustments/", {"warehouse": "B", "sku": "TEE", "delta": -8, "reason": "count"}),
        Step("POST", reserve, {"reference": "o-3", "lines": [{"sku": "CAP", "quantity": 4},
                                                             {"sku": "MUG", "quantity": 4}]}),
        Step("POST", reserve, {"reference": "o-4", "lines": []}),
        Step("POST", reserve, {"reference": "o-4", "lines": [{"sku": "MUG", "quantity": 0}]}),
        Step("GET", reserve + "{r1}/"),
        Step("POST", reserve + "{r1}/release/"),
        Step("POST", reserve + "{r1}/release/"),
        Step("GET", reserve + f"{uuid.uuid4()}/"),
        Step("POST", reserve + f"{uuid.uuid4()}/release/"),
        Step("GET", reserve + "{r2}/", who="alice"),
        Step("POST", reserve, {"reference": "o-5", "lines": [{"sku": "MUG", "quantity": 1}]}, who=None),
        Step("GET", "/api/inventory/stock/TEE/", who=None),
        Step("GET", "/api/inventory/stock/MUG/", who=None),
    ])  # fmt: skip
    assert [a.status for a in answers] == [201, 201, 409, 409, 400, 400, 200, 200, 200, 404, 404, 403, 401, 200, 200]
    assert [(line["warehouse"], line["sku"], line["quantity"]) for line in answers[1].body["lines"]] == [
        ("A", "MUG", 5), ("B", "MUG", 2), ("A", "TEE", 1)
    ]  # fmt: skip
    assert answers[3].body["error"] == {
        "code": "insufficient_stock", "message": "Not enough stock for: CAP, MUG.",
        "details": {"skus": [{"sku": "CAP", "requested": 4, "available": 3},
                             {"sku": "MUG", "requested": 4, "available": 3}]},
    }  # fmt: skip
    assert answers[9].body["error"]["code"] == "reservation_not_found"


def test_idempotent_writes_replay_the_first_answer_as_the_monolith(
    shop: Any, service: InventoryService, tokens: dict[str | None, str | None]
) -> None:
    reserve = "/api/inventory/reservations/"
    body = {"reference": "o-7", "lines": [{"sku": "HAT-US", "quantity": 2}]}
    answers = run_both(service, tokens, [
        Step("POST", reserve, body, headers={"Idempotency-Key": "k-1"}, keep="r"),
        Step("POST", reserve, body, headers={"Idempotency-Key": "k-1"}),
        Step("POST", reserve, {**body, "reference": "o-8"}, headers={"Idempotency-Key": "k-1"}),
        Step("POST", reserve + "{r}/release/", headers={"Idempotency-Key": "k-2"}),
        Step("POST", reserve + "{r}/release/", headers={"Idempotency-Key": "k-2"}),
        Step("GET", "/api/inventory/stock/HAT-US/", who=None),
    ])  # fmt: skip
    assert [a.status for a in answers] == [201, 201, 422, 200, 200, 200]
    first, replay = answers[0], answers[1]
    assert replay.body == first.body and replay.headers["idempotent-replayed"] == "true"
    assert answers[5].body["total"] == {"on_hand": 9, "reserved": 0, "available": 9}  # held once, released once


def test_a_dry_run_write_answers_as_the_monolith_and_leaves_nothing(
    shop: Any, service: InventoryService, tokens: dict[str | None, str | None]
) -> None:
    shadow = {"X-Strangler-Shadow": "1", "Idempotency-Key": "dry-1"}
    body = {"reference": "o-6", "lines": [{"sku": "CAP", "quantity": 2}]}
    answers = run_both(service, tokens, [
        Step("POST", "/api/inventory/reservations/", body, headers=shadow),
        Step("POST", "/api/inventory/adjustments/", {"warehouse": "B", "sku": "CAP", "delta": 5, "reason": "x"},
             headers={"X-Strangler-Shadow": "1"}),
        Step("GET", "/api/inventory/stock/CAP/", who=None),
        Step("POST", "/api/inventory/reservations/", body, headers={"Idempotency-Key": "dry-1"}),
    ])  # fmt: skip
    assert [(a.status, a.headers.get("x-strangler-dry-run")) for a in answers] == [
        (201, "1"), (201, "1"), (200, None), (201, None)
    ]  # fmt: skip
    assert answers[2].body["total"] == {"on_hand": 3, "reserved": 0, "available": 3}
    assert "idempotent-replayed" not in answers[3].headers  # the dry run's key was rolled back too
    events = service.query("SELECT event_type FROM events_outboxevent ORDER BY id")
    assert events == [("stock.reserved",)]


def test_the_service_publishes_its_writes_with_its_own_source(
    shop: Any, service: InventoryService, tokens: dict[str | None, str | None]
) -> None:
    auth = {"Authorization": f"Bearer {tokens['staff']}"}
    body = {"reference": "o-9", "lines": [{"sku": "MUG", "quantity": 6}]}
    created = httpx.post(service.base_url + "/api/inventory/reservations/", json=body, headers=auth)
    assert created.status_code == 201
    rows = service.query("SELECT source, event_type, aggregate_type, aggregate_id FROM events_outboxevent ORDER BY id")
    assert rows == [("inventory-service", "stock.reserved", "reservation", created.json()["id"])]


def test_internal_replication_needs_the_internal_token(service: InventoryService) -> None:
    url = service.base_url + "/internal/replication"
    assert httpx.get(url).json()["error"]["code"] == "not_authenticated"
    wrong = httpx.get(url, headers={"Authorization": "Bearer wrong"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "authentication_failed")
    status = httpx.get(url, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert status.status_code == 200
    assert status.json() == {
        "capability": "inventory", "applied": len(SHOP_LEVELS), "source_events": None, "lag_events": None,
        "lag_seconds": status.json()["lag_seconds"],
    }  # fmt: skip


def test_the_openapi_schema_documents_the_monoliths_inventory_operations(service: InventoryService) -> None:
    ours = httpx.get(service.base_url + "/api/schema/?format=json").json()
    theirs = APIClient().get("/api/schema/?format=json").json()
    inventory = sorted(p for p in theirs["paths"] if p.startswith("/api/inventory/"))
    assert sorted(p for p in ours["paths"] if p.startswith("/api/inventory/")) == inventory
    for path in inventory:
        assert ours["paths"][path].keys() == theirs["paths"][path].keys(), path
        for method, operation in ours["paths"][path].items():
            # Operation ids and tags included: both sides name operations after the path minus the same "/api".
            assert operation == theirs["paths"][path][method], f"{method.upper()} {path}"
