"""The checkout through its HTTP adapters, against a real service on a loopback port.

The "service" is the monolith itself under gunicorn, with a database of its own (a SQLite file seeded with the demo
shop): it serves exactly the public API the extracted services copy, with the same errors. The monolith under
test reads ownership from a real proxy state store, so every call goes through the same composition root as in
production. Outcomes are read back from the service's API and database and from the monolith's tables.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from events.inbox import receive
from events.models import OutboxEvent
from monolith.catalog.services import product_upsert
from monolith.core import demo
from monolith.inventory.models import Reservation
from monolith.orders.adapters.tokens import SYSTEM_PRINCIPAL_ID, TokenSigner
from monolith.orders.bootstrap import reset_ports
from monolith.orders.models import Order
from monolith.payments.models import Payment
from monolith.shipments.models import Shipment
from strangler_proxy.config import load_config
from strangler_proxy.model import Mode
from strangler_proxy.state import open_store
from tests.e2e.processes import VENV_BIN, Process, free_port, manage, start_process, wait_until_healthy
from tests.integration.helpers import order_body

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "strangler_proxy" / "example.yaml"
OPS_PERMS = (
    "inventory.view_reservation",
    "payments.view_payment",
    "shipments.dispatch_shipment",
    "shipments.view_shipment",
)
SETTINGS = ("STRANGLER_STATE_URL", "INVENTORY_SERVICE_URL", "PAYMENT_SERVICE_URL", "SHIPMENT_SERVICE_URL")


@dataclass
class Service:
    base_url: str
    database: Path
    server: Process

    def get(self, path: str) -> Any:
        token = TokenSigner().token(subject=SYSTEM_PRINCIPAL_ID, perms=OPS_PERMS)
        response = httpx.get(self.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str) -> Any:
        token = TokenSigner().token(subject=SYSTEM_PRINCIPAL_ID, perms=OPS_PERMS)
        response = httpx.post(self.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.database)) as conn:
            return conn.execute(sql, params).fetchall()

    def stock(self, sku: str) -> dict[str, tuple[int, int]]:
        """warehouse → (on hand, reserved) as the service reports it."""
        found = self.get(f"/api/inventory/stock/{sku}/")["warehouses"]
        return {w["warehouse"]: (w["on_hand"], w["reserved"]) for w in found}

    def counts(self) -> dict[str, int]:
        """Rows per (table, status): what a checkout left on the service."""
        counted: dict[str, int] = {}
        for table in ("inventory_reservation", "payments_payment", "shipments_shipment"):
            for status, n in self.query(f"SELECT status, count(*) FROM {table} GROUP BY status"):
                counted[f"{table.split('_', 1)[1]}:{status}"] = n
        return counted


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    workdir = tmp_path_factory.mktemp("service")
    database, port = workdir / "service.sqlite3", free_port()
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and k != "TEST_DATABASE_NAME"}
    env.update(
        DATABASE_URL=f"sqlite:///{database}", MONOLITH_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2",
        ACCESS_LOG="0", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    manage("migrate", "--noinput", "-v0", env=env)
    manage("seed_demo", env=env)
    argv = [str(VENV_BIN / "gunicorn"), "-c", "python:monolith.gunicorn_conf", "monolith.wsgi"]
    server = start_process("service", argv, env, workdir)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url + "/healthz", server.popen)
        yield Service(base_url, database, server)
    finally:
        server.stop()


@pytest.fixture
def stage(settings: Any, tmp_path: Path, service: Service, db: None) -> Iterator[Callable[..., None]]:
    """Set each group's mode in a real proxy state store the monolith reads ownership from."""
    url = f"sqlite:///{tmp_path / 'proxy-state.sqlite3'}"
    store = open_store(url)
    store.seed(load_config(EXAMPLE).groups.values())
    settings.STRANGLER_STATE_URL = url
    settings.INVENTORY_SERVICE_URL = settings.PAYMENT_SERVICE_URL = settings.SHIPMENT_SERVICE_URL = service.base_url
    for sku, name, price in demo.PRODUCTS:  # the catalogue stays in the monolith; no stock is kept here
        product_upsert(sku=sku, name=name, price=price, currency=demo.CURRENCY)

    def set_modes(**modes: Mode) -> None:
        for group, mode in modes.items():
            store.change(group, mode=mode, percent=None, reason="test", who="test", automatic=False)
        reset_ports()

    yield set_modes
    reset_ports()
    store.close()


CUT_OVER = {"inventory": Mode.SERVICE, "payment": Mode.SERVICE, "shipment": Mode.SERVICE}


def place(client: Any, lines: list[tuple[str, int]], token: str = "tok_visa") -> Any:
    return client.post("/api/orders/", order_body(lines, token), format="json")


def no_legacy_rows() -> bool:
    return not (Reservation.objects.exists() or Payment.objects.exists() or Shipment.objects.exists())


def test_at_cut_over_the_checkout_reserves_authorises_and_ships_on_the_services(
    stage: Callable[..., None], service: Service, alice: Any, client_for: Any
) -> None:
    stage(**CUT_OVER)
    before = service.stock("MUG-LOGO")

    response = place(client_for(alice), [("MUG-LOGO", 3), ("CAP-NAVY", 1)])

    assert response.status_code == 201, response.json()
    order = response.json()
    assert (order["status"], order["total"]) == ("confirmed", "59.50")
    reservation = service.get(f"/api/inventory/reservations/{order['reservation_id']}/")
    assert (reservation["reference"], reservation["status"]) == (order["id"], "active")
    held = {(line["warehouse"], line["sku"]): line["quantity"] for line in reservation["lines"]}
    assert held == {("BER-1", "MUG-LOGO"): 3, ("BER-1", "CAP-NAVY"): 1}
    assert service.stock("MUG-LOGO")["BER-1"] == (before["BER-1"][0], before["BER-1"][1] + 3)
    payment = service.get(f"/api/payments/{order['payment_id']}/")
    assert (payment["status"], payment["amount"], payment["customer_id"]) == ("authorized", "59.50", alice.pk)
    shipments = service.get(f"/api/shipments/?order_id={order['id']}")["results"]
    assert [(s["warehouse"], s["status"]) for s in shipments] == [("BER-1", "created")]
    assert no_legacy_rows(), "service-owned records reach the legacy tables only through reverse sync"


@pytest.mark.parametrize("payments", [Mode.SERVICE, Mode.MONOLITH], ids=["payments-remote", "payments-local"])
def test_a_declined_payment_releases_the_remote_reservation_and_leaves_no_order(
    stage: Callable[..., None], service: Service, alice: Any, client_for: Any, payments: Mode
) -> None:
    stage(inventory=Mode.SERVICE, payment=payments, shipment=Mode.SERVICE)
    before_stock, before_rows = service.stock("MUG-LOGO"), service.counts()

    response = place(client_for(alice), [("MUG-LOGO", 2)], "tok_insufficientFunds")

    assert response.status_code == 402, response.json()
    assert response.json()["error"]["code"] == "payment_declined"
    assert response.json()["error"]["details"] == {"decline_code": "insufficient_funds"}
    assert Order.objects.count() == 0 and no_legacy_rows()
    assert service.stock("MUG-LOGO") == before_stock
    released = before_rows.get("reservation:released", 0) + 1
    assert service.counts() == {**before_rows, "reservation:released": released}, "reserved, then released"


def test_short_stock_answers_409_as_the_monolith_did_and_nothing_remains(
    stage: Callable[..., None], service: Service, alice: Any, client_for: Any
) -> None:
    stage(**CUT_OVER)
    before_stock, before_rows = service.stock("MUG-LOGO"), service.counts()
    available = sum(on_hand - reserved for on_hand, reserved in before_stock.values())

    response = place(client_for(alice), [("MUG-LOGO", available + 1), ("CAP-NAVY", 1)])

    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"] == {"skus": [{"sku": "MUG-LOGO", "requested": available + 1, "available": available}]}
    assert Order.objects.count() == 0 and no_legacy_rows()
    assert service.stock("MUG-LOGO") == before_stock
    assert service.counts() == before_rows


def test_a_failure_after_the_payment_voids_it_and_releases_the_stock(
    stage: Callable[..., None], service: Service, settings: Any, alice: Any, client_for: Any
) -> None:
    settings.SHIPMENT_SERVICE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    stage(**CUT_OVER)
    before_stock, before_rows = service.stock("MUG-LOGO"), service.counts()

    response = place(client_for(alice), [("MUG-LOGO", 1)])

    assert response.status_code == 503, response.json()
    assert response.json()["error"]["code"] == "shipment_unavailable"
    assert Order.objects.count() == 0
    assert service.stock("MUG-LOGO") == before_stock
    after = service.counts()
    assert after["payment:voided"] == before_rows.get("payment:voided", 0) + 1
    assert after["reservation:released"] == before_rows.get("reservation:released", 0) + 1
    assert after.get("payment:authorized") == before_rows.get("payment:authorized")


def test_cancelling_at_cut_over_compensates_on_the_services(
    stage: Callable[..., None], service: Service, alice: Any, client_for: Any
) -> None:
    stage(**CUT_OVER)
    client = client_for(alice)
    before = service.stock("TEE-BLACK-M")
    order = place(client, [("TEE-BLACK-M", 2)]).json()

    response = client.post(f"/api/orders/{order['id']}/cancel/", {"reason": "changed my mind"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert service.get(f"/api/payments/{order['payment_id']}/")["status"] == "voided"
    assert service.get(f"/api/inventory/reservations/{order['reservation_id']}/")["status"] == "released"
    shipments = service.get(f"/api/shipments/?order_id={order['id']}")["results"]
    assert {s["status"] for s in shipments} == {"cancelled"}
    assert service.stock("TEE-BLACK-M") == before


def service_events(service: Service, aggregate_type: str, aggregate_id: str, source: str) -> list[str]:
    """The service's real events of one aggregate, as a service of that name would publish them."""
    rows = service.query(
        f"SELECT payload FROM {OutboxEvent._meta.db_table} WHERE aggregate_type = ? AND aggregate_id = ? "
        "ORDER BY sequence",
        aggregate_type,
        aggregate_id,
    )
    return [json.dumps({**json.loads(payload), "source": source}) for (payload,) in rows]


def test_a_shipment_the_service_dispatches_fulfils_the_order_through_legacy_sync(
    stage: Callable[..., None], service: Service, alice: Any, client_for: Any
) -> None:
    stage(**CUT_OVER)
    order = place(client_for(alice), [("SOCKS-3PACK", 1)]).json()
    (shipment,) = service.get(f"/api/shipments/?order_id={order['id']}")["results"]
    service.post(f"/api/shipments/{shipment['id']}/dispatch/")

    outcomes = [
        receive(consumer="legacy-sync", body=body).kind
        for body in service_events(service, "shipment", shipment["id"], "shipment-service")
    ]

    assert outcomes == ["handled", "handled"]  # shipment.created, shipment.dispatched
    fulfilled = Order.objects.get(pk=order["id"])
    assert fulfilled.status == "fulfilled"
    assert service.get(f"/api/payments/{order['payment_id']}/")["status"] == "captured"
    legacy = Shipment.objects.get(pk=shipment["id"])
    assert (legacy.status, legacy.warehouse, legacy.dispatched_at is not None) == ("dispatched", "BER-1", True)


def test_a_dry_run_checkout_is_a_dry_run_on_the_services_too(
    stage: Callable[..., None], service: Service, alice: Any, client_for: Any
) -> None:
    stage(**CUT_OVER)
    before_stock, before_rows = service.stock("MUG-LOGO"), service.counts()

    response = client_for(alice).post(
        "/api/orders/", order_body([("MUG-LOGO", 2)]), format="json", HTTP_X_STRANGLER_SHADOW="1"
    )

    assert response.status_code == 201, response.json()
    assert response["X-Strangler-Dry-Run"] == "1" and response.json()["status"] == "confirmed"
    assert Order.objects.count() == 0
    assert service.stock("MUG-LOGO") == before_stock and service.counts() == before_rows
