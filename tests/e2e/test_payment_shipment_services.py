"""The payment and shipment services as real processes: the monolith's contract, dry runs, outbox, replica.

Each service runs under gunicorn on a free loopback port with its own SQLite database, verifying the tokens of
a monolith started beside it with that monolith's public key alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strangler_proxy.buckets import bucket_of, in_canary
from strangler_proxy.config import load_config
from strangler_proxy.model import Mode, Side
from strangler_proxy.record_ids import embedded_bucket, embedded_creator, mint_record_id
from strangler_proxy.state import open_store
from tests.e2e.contract.target import subject_of
from tests.e2e.processes import ROOT, LiveMonolith, start_monolith
from tests.e2e.service_processes import INTERNAL_TOKEN, LiveService, query_sqlite, start_service

pytestmark = pytest.mark.e2e

USERS = ("alice", "bob", "staff")


@pytest.fixture(scope="module")
def monolith(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveMonolith]:
    server = start_monolith(Path(tmp_path_factory.mktemp("monolith")))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tokens(monolith: LiveMonolith) -> dict[str, str]:
    return {user: monolith.token(user) for user in USERS}


def _service(name: str, tmp_path_factory: pytest.TempPathFactory, monolith: LiveMonolith) -> Iterator[LiveService]:
    service = start_service(name, Path(tmp_path_factory.mktemp(name)), monolith)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def payment_service(tmp_path_factory: pytest.TempPathFactory, monolith: LiveMonolith) -> Iterator[LiveService]:
    yield from _service("payment", tmp_path_factory, monolith)


@pytest.fixture(scope="module")
def shipment_service(tmp_path_factory: pytest.TempPathFactory, monolith: LiveMonolith) -> Iterator[LiveService]:
    yield from _service("shipment", tmp_path_factory, monolith)


def _call(service: LiveService, tokens: dict[str, str], method: str, path: str, user: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {tokens[user]}", **kwargs.pop("headers", {})}
    return httpx.request(method, service.base_url + path, headers=headers, timeout=10.0, **kwargs)


def test_a_payment_s_events_carry_the_monolith_s_types_and_data_with_the_service_s_source(
    payment_service: LiveService, tokens: dict[str, str]
) -> None:
    order_id = str(uuid.uuid4())
    body = {"amount": "12.00", "currency": "EUR", "card_token": "tok_visa", "order_id": order_id}
    payment = _call(payment_service, tokens, "POST", "/api/payments/", "alice", json=body).json()
    assert embedded_creator(payment["id"]) is Side.SERVICE, "its id routes later calls to the service"
    assert embedded_bucket(payment["id"]) == bucket_of(order_id)
    captured = _call(payment_service, tokens, "POST", f"/api/payments/{payment['id']}/capture/", "staff", json={})
    refunded = _call(payment_service, tokens, "POST", f"/api/payments/{payment['id']}/refund/", "staff", json={})
    assert (captured.status_code, refunded.status_code) == (200, 200)
    events = [e for e in payment_service.outbox() if e["subject"] == payment["id"]]
    assert [(e["type"], e["source"], e["sequence"]) for e in events] == [
        ("payment.authorized", "payment-service", 1), ("payment.captured", "payment-service", 2),
        ("payment.refunded", "payment-service", 3),
    ]  # fmt: skip
    assert events[-1]["data"] == {
        "payment_id": payment["id"], "customer_id": subject_of(tokens["alice"]), "order_id": order_id,
        "amount": "12.00", "currency": "EUR", "status": "refunded", "captured_amount": "12.00",
        "refunded_amount": "12.00", "amount_refunded": "12.00",
    }  # fmt: skip


def test_a_repeated_idempotency_key_replays_the_first_payment(
    payment_service: LiveService, tokens: dict[str, str]
) -> None:
    body = {"amount": "7.00", "currency": "EUR", "card_token": "tok_visa", "order_id": str(uuid.uuid4())}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first, again = (
        _call(payment_service, tokens, "POST", "/api/payments/", "alice", json=body, headers=key) for _ in range(2)
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = _call(
        payment_service, tokens, "POST", "/api/payments/", "alice", json={**body, "amount": "8.00"}, headers=key
    )
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert [e["subject"] for e in payment_service.outbox()].count(first.json()["id"]) == 1


def test_a_dry_run_payment_leaves_no_row_and_no_event(payment_service: LiveService, tokens: dict[str, str]) -> None:
    tables = ("payment_service_payment", "events_outboxevent", "core_idempotencyrecord")
    before = [payment_service.count(table) for table in tables]
    body = {"amount": "9.99", "currency": "EUR", "card_token": "tok_visa", "order_id": str(uuid.uuid4())}
    shadow = {"X-Strangler-Shadow": "1", "Idempotency-Key": uuid.uuid4().hex}
    response = _call(payment_service, tokens, "POST", "/api/payments/", "alice", json=body, headers=shadow)
    assert response.status_code == 201, response.text
    assert response.headers["X-Strangler-Dry-Run"] == "1"
    assert response.json()["status"] == "authorized"
    assert [payment_service.count(table) for table in tables] == before
    gone = _call(payment_service, tokens, "GET", f"/api/payments/{response.json()['id']}/", "staff")
    assert gone.status_code == 404


def test_a_dry_run_shipment_leaves_no_row_and_no_event(shipment_service: LiveService, tokens: dict[str, str]) -> None:
    tables = ("shipment_service_shipment", "shipment_service_shipmentline", "events_outboxevent")
    before = [shipment_service.count(table) for table in tables]
    body = {
        "order_id": str(uuid.uuid4()), "customer_id": subject_of(tokens["alice"]), "warehouse": "BER-1",
        "lines": [{"sku": "MUG-LOGO", "quantity": 1}],
    }  # fmt: skip
    response = _call(
        shipment_service, tokens, "POST", "/api/shipments/", "staff", json=body, headers={"X-Strangler-Shadow": "1"}
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Strangler-Dry-Run"] == "1"
    assert [shipment_service.count(table) for table in tables] == before
    listed = _call(shipment_service, tokens, "GET", f"/api/shipments/?order_id={body['order_id']}", "staff")
    assert listed.json()["count"] == 0


def test_internal_replication_needs_the_internal_token(payment_service: LiveService) -> None:
    url = payment_service.base_url + "/internal/replication"
    assert httpx.get(url, timeout=10.0).status_code == 401
    status = httpx.get(url, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}, timeout=10.0)
    assert status.status_code == 200, status.text
    assert set(status.json()) == {"capability", "applied", "source_events", "lag_events", "lag_seconds"}
    assert status.json()["capability"] == "payments"


# Replication: a fresh service per capability (the contract cases above write records the monolith never had).


@pytest.fixture(scope="module")
def payment_replica(tmp_path_factory: pytest.TempPathFactory, monolith: LiveMonolith) -> Iterator[LiveService]:
    yield from _service("payment", tmp_path_factory, monolith)


@pytest.fixture(scope="module")
def shipment_replica(tmp_path_factory: pytest.TempPathFactory, monolith: LiveMonolith) -> Iterator[LiveService]:
    yield from _service("shipment", tmp_path_factory, monolith)


def _monolith_envelopes(monolith: LiveMonolith, aggregate_id: str) -> str:
    database = Path(monolith.env["DATABASE_URL"].removeprefix("sqlite:///"))
    rows = query_sqlite(
        database, f"SELECT payload FROM events_outboxevent WHERE aggregate_id = '{aggregate_id}' ORDER BY id"
    )
    return "".join(payload + "\n" for (payload,) in rows)


def _monolith_call(monolith: LiveMonolith, tokens: dict[str, str], method: str, path: str, user: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {tokens[user]}"}
    response = httpx.request(method, monolith.base_url + path, headers=headers, timeout=10.0, **kw)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _without_times(document: dict[str, Any]) -> dict[str, Any]:
    """The export and the events carry no timestamps: a replica dates records by when it learnt of them."""
    return {k: v for k, v in document.items() if not k.endswith("_at")}


def test_payment_replica_follows_the_monolith_then_continues_its_numbering(
    payment_replica: LiveService, monolith: LiveMonolith, tokens: dict[str, str]
) -> None:
    body = {"amount": "30.00", "currency": "EUR", "card_token": "tok_visa", "order_id": str(uuid.uuid4())}
    legacy = _monolith_call(monolith, tokens, "POST", "/api/payments/", "alice", json=body)
    payment_replica.manage("backfill", "--token", tokens["staff"], "--no-progress")
    path = f"/api/payments/{legacy['id']}/"
    assert _without_times(_call(payment_replica, tokens, "GET", path, "alice").json()) == _without_times(legacy)

    captured = _monolith_call(monolith, tokens, "POST", path + "capture/", "staff", json={"amount": "20.00"})
    outcomes = payment_replica.manage(
        "replica_receive", "--consumer", "payment", stdin=_monolith_envelopes(monolith, legacy["id"])
    )
    assert json.loads(outcomes.stdout).get("handled") == 1, outcomes.stdout  # the authorisation was in the snapshot
    assert _without_times(_call(payment_replica, tokens, "GET", path, "staff").json()) == _without_times(captured)
    assert payment_replica.outbox() == [], "a replica publishes nothing"

    refunded = _call(payment_replica, tokens, "POST", path + "refund/", "staff", json={"amount": "5.00"})
    assert (refunded.status_code, refunded.json()["refunded_amount"]) == (200, "5.00")
    assert [(e["type"], e["sequence"]) for e in payment_replica.outbox()] == [("payment.refunded", 3)]
    reconciled = payment_replica.manage("reconcile", "--token", tokens["staff"], "--json", check=False)
    assert reconciled.returncode == 1 and json.loads(reconciled.stdout)["resources"][0]["differing"] == [legacy["id"]]


def test_shipment_replica_follows_the_monolith_and_reconciles_equal(
    shipment_replica: LiveService, monolith: LiveMonolith, tokens: dict[str, str]
) -> None:
    body = {
        "order_id": str(uuid.uuid4()), "customer_id": subject_of(tokens["alice"]), "warehouse": "BER-1",
        "lines": [{"sku": "MUG-LOGO", "quantity": 2}],
    }  # fmt: skip
    legacy = _monolith_call(monolith, tokens, "POST", "/api/shipments/", "staff", json=body)
    shipment_replica.manage("backfill", "--token", tokens["staff"], "--no-progress")
    path = f"/api/shipments/{legacy['id']}/"
    dispatched = _monolith_call(monolith, tokens, "POST", path + "dispatch/", "staff")
    outcomes = shipment_replica.manage(
        "replica_receive", "--consumer", "shipment", stdin=_monolith_envelopes(monolith, legacy["id"])
    )
    assert json.loads(outcomes.stdout).get("handled") == 1, outcomes.stdout
    replica = _call(shipment_replica, tokens, "GET", path, "alice").json()
    assert _without_times(replica) == _without_times(dispatched) and replica["dispatched_at"]

    reconciled = shipment_replica.manage("reconcile", "--token", tokens["staff"], "--json")
    assert json.loads(reconciled.stdout)["equal"] is True
    status = json.loads(shipment_replica.manage("replication_status", "--token", tokens["staff"]).stdout)
    assert (status["applied"], status["lag_events"]) == (status["source_events"], 0)

    delivered = _call(shipment_replica, tokens, "POST", path + "deliver/", "staff")
    assert delivered.json()["status"] == "delivered"
    assert [(e["type"], e["source"], e["sequence"]) for e in shipment_replica.outbox()] == [
        ("shipment.delivered", "shipment-service", 3)
    ]


def test_a_service_writes_only_the_records_it_owns(
    tmp_path_factory: pytest.TempPathFactory, monolith: LiveMonolith, tokens: dict[str, str]
) -> None:
    """With the proxy's state store at hand, a write of a record the monolith owns is refused (421, nothing done)."""
    workdir = Path(tmp_path_factory.mktemp("guarded"))
    state_url = f"sqlite:///{workdir / 'proxy-state.sqlite3'}"
    store = open_store(state_url)
    store.seed(load_config(ROOT / "strangler_proxy" / "example.yaml").groups.values())
    store.change("payment", mode=Mode.CANARY, percent=50, reason="test", who="test", automatic=False)
    service = start_service("payment", workdir, monolith, extra_env={"STRANGLER_STATE_URL": state_url})
    try:
        orders = [str(uuid.uuid4()) for _ in range(40)]
        inside = next(o for o in orders if in_canary(bucket_of(o), 50))
        outside = next(o for o in orders if not in_canary(bucket_of(o), 50))

        def authorize(order_id: str, **headers: str) -> Any:
            body = {"amount": "9.00", "currency": "EUR", "card_token": "tok_visa", "order_id": order_id}
            return _call(service, tokens, "POST", "/api/payments/", "alice", json=body, headers=headers)

        refused = authorize(outside)
        assert refused.status_code == 421 and refused.json()["error"]["code"] == "not_owner", refused.text
        assert service.count("payment_service_payment") == 0, "nothing written"
        assert authorize(outside, **{"X-Strangler-Shadow": "1"}).status_code == 201, "dry runs are not checked"
        own = authorize(inside)
        assert own.status_code == 201, own.text
        assert (
            _call(service, tokens, "POST", f"/api/payments/{own.json()['id']}/capture/", "staff", json={}).status_code
            == 200
        )
        theirs = mint_record_id(bucket_of(inside))  # the monolith's record for an order now inside the canary
        moved = _call(service, tokens, "POST", f"/api/payments/{theirs}/void/", "staff")
        assert moved.status_code == 421 and moved.json()["error"]["code"] == "not_owner"

        store.change("payment", mode=Mode.SERVICE, percent=50, reason="cut over", who="test", automatic=False)
        after = _call(service, tokens, "POST", f"/api/payments/{theirs}/void/", "staff")
        assert after.status_code == 404, "cut over: the service owns every record (this one it never had)"
        assert authorize(outside).status_code == 201
    finally:
        service.stop()
        store.close()
