"""The cut-over fence: once a capability is fenced the monolith refuses its writes (421) and writes nothing."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from events.models import OutboxEvent
from events.positions import published_total
from monolith.core.errors import CapabilityMoved
from monolith.core.ownership import capability_write_guard
from monolith.inventory.models import Reservation, StockAdjustment
from monolith.inventory.services import reservation_consume, reservation_create, stock_adjust
from monolith.payments.models import Payment
from monolith.payments.services import payment_authorize, payment_capture
from monolith.shipments.models import Shipment
from monolith.shipments.services import shipment_create
from tests.integration.helpers import stock_levels

TOKEN = "internal-test-token"


@pytest.fixture
def internal_token(settings: Any) -> str:
    settings.STRANGLER_INTERNAL_TOKEN = TOKEN
    return TOKEN


def internal(method: str, path: str, token: str | None = TOKEN) -> Any:
    headers = {} if token is None else {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return getattr(Client(), method)(f"/internal/ownership/{path}", **headers)


@pytest.fixture
def records(shop: Any) -> dict[str, Any]:
    """One record in every state a write of each capability starts from."""
    order_id = uuid.uuid4()
    authorized = payment_authorize(
        customer_id=1, amount=Decimal("10.00"), currency="EUR", card_token="tok_visa", order_id=order_id
    )
    captured = payment_authorize(customer_id=1, amount=Decimal("20.00"), currency="EUR", card_token="tok_visa")
    payment_capture(payment_id=captured.id)
    created = shipment_create(order_id=order_id, customer_id=1, warehouse="A", lines=[("MUG", 1)])
    dispatched = shipment_create(order_id=order_id, customer_id=1, warehouse="B", lines=[("TEE", 1)])
    Shipment.objects.filter(pk=dispatched.pk).update(status="dispatched")
    reservation = reservation_create(reference=str(order_id), lines=[("MUG", 1)])
    return {
        "order_id": order_id,
        "authorized": authorized.id,
        "captured": captured.id,
        "created": created.id,
        "dispatched": dispatched.id,
        "reservation": reservation.id,
    }


def everything() -> dict[str, Any]:
    """What a refused write must leave exactly as it was."""
    return {
        "events": OutboxEvent.objects.count(),
        "stock": stock_levels(),
        "adjustments": StockAdjustment.objects.count(),
        "reservations": sorted(Reservation.objects.values_list("id", "status")),
        "payments": sorted(Payment.objects.values_list("id", "status", "captured_amount", "refunded_amount")),
        "shipments": sorted(Shipment.objects.values_list("id", "status")),
    }


WRITES: list[tuple[str, str, Callable[[dict[str, Any]], str], dict[str, Any]]] = [
    ("inventory", "stock_adjust", lambda r: "/api/inventory/adjustments/",
     {"warehouse": "A", "sku": "MUG", "delta": 1, "reason": "count"}),
    ("inventory", "reservation_create", lambda r: "/api/inventory/reservations/",
     {"reference": "o-9", "lines": [{"sku": "MUG", "quantity": 1}]}),
    ("inventory", "reservation_release", lambda r: f"/api/inventory/reservations/{r['reservation']}/release/", {}),
    ("payments", "payment_authorize", lambda r: "/api/payments/",
     {"amount": "5.00", "currency": "EUR", "card_token": "tok_visa", "order_id": str(uuid.uuid4())}),
    ("payments", "payment_capture", lambda r: f"/api/payments/{r['authorized']}/capture/", {}),
    ("payments", "payment_void", lambda r: f"/api/payments/{r['authorized']}/void/", {}),
    ("payments", "payment_refund", lambda r: f"/api/payments/{r['captured']}/refund/", {}),
    ("shipments", "shipment_create", lambda r: "/api/shipments/",
     {"order_id": str(uuid.uuid4()), "customer_id": 1, "warehouse": "A", "lines": [{"sku": "MUG", "quantity": 1}]}),
    ("shipments", "shipment_dispatch", lambda r: f"/api/shipments/{r['created']}/dispatch/", {}),
    ("shipments", "shipment_cancel", lambda r: f"/api/shipments/{r['created']}/cancel/", {}),
    ("shipments", "shipment_deliver", lambda r: f"/api/shipments/{r['dispatched']}/deliver/", {}),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("capability", "service", "path", "body"), WRITES, ids=[w[1] for w in WRITES])
def test_a_fenced_capability_refuses_each_write_with_421_and_writes_nothing(
    internal_token: str,
    records: dict[str, Any],
    staff: Any,
    client_for: Any,
    capability: str,
    service: str,
    path: Callable[[dict[str, Any]], str],
    body: dict[str, Any],
) -> None:
    assert internal("post", f"{capability}/fence").status_code == 200
    before = everything()

    response = client_for(staff).post(path(records), body, format="json", HTTP_IDEMPOTENCY_KEY=f"k-{service}")

    assert response.status_code == 421, response.content
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("capability_moved", {"capability": capability})
    assert f"The {capability} capability has moved" in error["message"]
    assert everything() == before

    assert internal("post", f"{capability}/unfence").status_code == 200
    again = client_for(staff).post(path(records), body, format="json", HTTP_IDEMPOTENCY_KEY=f"k-{service}")
    assert again.status_code in (200, 201), again.content  # the same request goes through once unfenced
    assert OutboxEvent.objects.count() > before["events"]


@pytest.mark.django_db
def test_consuming_a_reservation_is_refused_while_inventory_is_fenced(internal_token: str, records: Any) -> None:
    internal("post", "inventory/fence")
    before = everything()
    with pytest.raises(CapabilityMoved):
        reservation_consume(reference=str(records["order_id"]), warehouse_code="A")
    assert everything() == before


@pytest.mark.django_db
def test_fencing_one_capability_leaves_the_others_writable(internal_token: str, shop: Any, alice: Any) -> None:
    internal("post", "inventory/fence")
    payment = payment_authorize(customer_id=alice.pk, amount=Decimal("1.00"), currency="EUR", card_token="tok_visa")
    assert Payment.objects.filter(pk=payment.pk).exists()
    with pytest.raises(CapabilityMoved):
        stock_adjust(warehouse_code="A", sku="MUG", delta=1, reason="count", actor_id=None)


@pytest.mark.django_db
def test_fence_answers_the_capabilitys_event_count_and_is_idempotent(internal_token: str, records: Any) -> None:
    assert internal("get", "inventory").json() == {
        "capability": "inventory",
        "fenced": False,
        "fenced_at": None,
        "position": None,
    }
    events = OutboxEvent.objects.filter(aggregate_type__in=["stock", "reservation"]).count()

    first = internal("post", "inventory/fence")
    second = internal("post", "inventory/fence")

    assert first.status_code == second.status_code == 200
    assert first.json()["position"] == events > 0
    assert first.json()["fenced"] is True and first.json()["fenced_at"]
    assert second.json() == first.json() == internal("get", "inventory").json()
    payments = internal("post", "payments/fence").json()
    assert payments["position"] == OutboxEvent.objects.filter(aggregate_type="payment").count()

    unfenced = internal("post", "inventory/unfence")
    assert unfenced.json() == {"capability": "inventory", "fenced": False, "fenced_at": None, "position": None}
    assert internal("post", "inventory/unfence").json() == unfenced.json()


@pytest.mark.django_db
def test_internal_api_is_disabled_without_a_configured_token(settings: Any) -> None:
    settings.STRANGLER_INTERNAL_TOKEN = None
    for method, path in (("get", "inventory"), ("post", "inventory/fence"), ("post", "inventory/unfence")):
        response = internal(method, path)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "internal_api_disabled"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer", "not_authenticated"),
        (f"Basic {TOKEN}", "not_authenticated"),
        ("Bearer wrong-token", "authentication_failed"),
        (f"Bearer {TOKEN}x", "authentication_failed"),
    ],
)
def test_internal_api_needs_the_internal_token(internal_token: str, authorization: str | None, code: str) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = Client().post("/internal/ownership/inventory/fence", headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, code)
    assert internal("get", "inventory").json()["fenced"] is False


@pytest.mark.django_db
def test_a_user_token_is_not_an_internal_token(internal_token: str, staff: Any, client_for: Any) -> None:
    response = client_for(staff).post("/internal/ownership/inventory/fence")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "authentication_failed")


@pytest.mark.django_db
def test_an_unknown_capability_is_a_404(internal_token: str) -> None:
    for method, path in (("get", "orders"), ("post", "orders/fence"), ("post", "orders/unfence")):
        response = internal(method, path)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "capability_not_found")


def test_the_guard_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="needs the write's transaction open"):
        capability_write_guard("payments")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_fence_waits_for_a_writer_in_flight_and_counts_its_events(internal_token: str, shop: Any) -> None:
    wrote, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}
    before = published_total(aggregate_types=["stock", "reservation"])

    def writer() -> None:
        try:
            with transaction.atomic():
                stock_adjust(warehouse_code="A", sku="MUG", delta=2, reason="in flight", actor_id=None)
                wrote.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def fencer() -> None:
        try:
            outcome["fence"] = internal("post", "inventory/fence")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer), threading.Thread(target=fencer)]
    threads[0].start()
    assert wrote.wait(timeout=10)
    threads[1].start()
    try:
        wait_for_a_backend_waiting_on("core_capabilityownership")
        assert "fence" not in outcome  # still waiting for the writer's share lock
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)

    fence = outcome["fence"]
    assert fence.status_code == 200
    assert fence.json()["position"] == before + 1 == published_total(aggregate_types=["stock", "reservation"])
    assert stock_levels()[("A", "MUG")] == (7, 0)  # the writer in flight committed
    with pytest.raises(CapabilityMoved):
        stock_adjust(warehouse_code="A", sku="MUG", delta=1, reason="too late", actor_id=None)


def wait_for_a_backend_waiting_on(table: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s "
                "AND datname = current_database()",
                [f"%{table}%"],
            )
            row = cursor.fetchone()
        if row and row[0]:
            return
        time.sleep(0.02)
    raise AssertionError(f"no backend started waiting on a lock of {table} within {timeout}s")


def test_the_guard_refuses_an_unknown_capability() -> None:
    with pytest.raises(ValueError, match="unknown capability 'orders'"):
        capability_write_guard("orders")
