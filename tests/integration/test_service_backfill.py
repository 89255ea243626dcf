"""Backfill and reconcile against a running monolith: the inventory service copies the monolith's warehouses,
stock and reservations through the export API, resumes after being killed with no record twice and none missed,
and its replica then continues from the snapshot (events already in it are covered, the next ones apply). Once
copied, the service allocates, releases and numbers its events as the monolith would have."""

from __future__ import annotations

import json
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.inventory_service_support import INTERNAL_TOKEN, InventoryService, service_database
from tests.e2e.processes import LiveMonolith, free_port, manage, start_monolith, start_process, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def monolith(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveMonolith]:
    # The services' internal token too: their replication status reads the monolith's position with it.
    server = start_monolith(
        Path(tmp_path_factory.mktemp("monolith")), workers=1, extra_env={"STRANGLER_INTERNAL_TOKEN": INTERNAL_TOKEN}
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def token(monolith: LiveMonolith) -> str:
    """A staff token (holding the export API's view permissions)."""
    issued = monolith.token("staff")
    _hold_and_release(monolith, issued)
    return issued


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _hold_and_release(monolith: LiveMonolith, token: str) -> None:
    """Reservations in the monolith: single- and multi-warehouse ones, one released."""
    url = monolith.base_url + "/api/inventory/reservations/"
    orders = [[("MUG-LOGO", 2)], [("TEE-BLACK-M", 12)], [("HOODIE-GREY-M", 1), ("CAP-NAVY", 3)], [("SOCKS-3PACK", 4)]]
    created = []
    for n, lines in enumerate(orders):
        body = {"reference": f"order-{n}", "lines": [{"sku": sku, "quantity": q} for sku, q in lines]}
        response = httpx.post(url, json=body, headers=_auth(token))
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    assert httpx.post(f"{url}{created[0]}/release/", headers=_auth(token)).status_code == 200


def _service(workdir: Path, monolith: LiveMonolith) -> InventoryService:
    with service_database(workdir, postgres=False) as url:
        return InventoryService.create(workdir, url, MONOLITH_URL=monolith.base_url)


def _monolith_count(monolith: LiveMonolith, table: str) -> int:
    with closing(sqlite3.connect(monolith.env["DATABASE_URL"].removeprefix("sqlite:///"))) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _count(service: InventoryService, table: str) -> int:
    return int(service.query(f"SELECT COUNT(*) FROM {table}")[0][0])


def test_backfill_copies_everything_reconcile_agrees_and_the_replica_is_caught_up(
    monolith: LiveMonolith, token: str, tmp_path: Path
) -> None:
    service = _service(tmp_path, monolith)

    copied = service.run("backfill", "--token", token, "--page-size", "7").stdout
    stock_rows = _monolith_count(monolith, "inventory_stock")
    warehouses = _monolith_count(monolith, "inventory_warehouse")
    reservations = _monolith_count(monolith, "inventory_reservation")
    assert f"warehouses: copied, {warehouses} records" in copied
    assert f"stock: copied, {stock_rows} records" in copied
    assert f"reservations: copied, {reservations} records" in copied

    reconciled = service.run("reconcile", "--token", token, "--json")
    report = json.loads(reconciled.stdout)
    assert report["equal"] is True
    assert {(r["resource"], r["monolith"], r["service"]) for r in report["resources"]} == {
        ("warehouses", warehouses, warehouses), ("stock", stock_rows, stock_rows),
        ("reservations", reservations, reservations),
    }  # fmt: skip
    status = json.loads(service.run("replication_status", "--token", token).stdout)
    assert status["applied"] == status["source_events"] > 0
    assert (status["lag_events"], status["lag_seconds"]) == (0, 0.0)
    assert "already done" in service.run("backfill", "--token", token).stdout


def test_a_backfill_killed_mid_way_resumes_with_no_record_twice_and_none_missed(
    monolith: LiveMonolith, token: str, tmp_path: Path
) -> None:
    service = _service(tmp_path, monolith)
    argv = service.argv("backfill", "--token", token, "--page-size", "2", "--pause", "0.2", "--no-progress")
    first = start_process("backfill-1", argv, service.env, tmp_path)

    def stored_pages() -> int:
        rows = service.query("SELECT pages FROM service_common_backfillcheckpoint WHERE resource = 'stock'")
        return int(rows[0][0]) if rows else 0

    wait_for("two pages of stock stored", lambda: stored_pages() >= 2, deadline_s=60, interval=0.02)
    first.kill(signal.SIGKILL)
    stock_rows = _monolith_count(monolith, "inventory_stock")
    assert 0 < _count(service, "inventory_service_stock") < stock_rows, "killed after the first pages"

    resumed = service.run("backfill", "--token", token, "--page-size", "2", "--no-progress").stdout

    assert "stock: copied (resumed)" in resumed
    assert service.run("reconcile", "--token", token).returncode == 0
    assert _count(service, "inventory_service_stock") == stock_rows
    lines = _monolith_count(monolith, "inventory_reservationline")
    assert _count(service, "inventory_service_reservationline") == lines
    checkpoint = "SELECT records, done FROM service_common_backfillcheckpoint WHERE resource = 'stock'"
    [(records, done)] = service.query(checkpoint)
    assert (records, bool(done)) == (stock_rows, True)


def test_after_the_snapshot_the_replica_covers_what_it_has_and_applies_what_is_new(
    monolith: LiveMonolith, token: str, tmp_path: Path
) -> None:
    service = _service(tmp_path, monolith)
    service.run("backfill", "--token", token)
    body = {"warehouse": "BER-1", "sku": "STICKER-PACK", "delta": 7, "reason": "delivery after the snapshot"}
    assert httpx.post(monolith.base_url + "/api/inventory/adjustments/", json=body, headers=_auth(token)).is_success

    old, new = _outbox_payloads(monolith, "stock", "BER-1:STICKER-PACK")[-2:]
    outcomes = [service.run("replica_receive", "--consumer", "inventory", stdin=e + "\n").stdout for e in (old, new)]

    assert [json.loads(o) for o in outcomes] == [{"covered": 1}, {"handled": 1}]
    assert service.run("reconcile", "--token", token).returncode == 0


def test_the_service_ranks_warehouses_by_the_monoliths_priorities(
    monolith: LiveMonolith, token: str, tmp_path: Path
) -> None:
    # First by priority, last by code: ranked by code (the default priority for all), BER-1 would win.
    manage("shell", "-c", "from monolith.inventory.models import Warehouse; "
           "Warehouse.objects.create(code='ZRH-1', name='Zurich', priority=5)", env=monolith.env)  # fmt: skip
    adjustment = {"warehouse": "ZRH-1", "sku": "STICKER-PACK", "delta": 10, "reason": "new warehouse"}
    _post(monolith.base_url, "/api/inventory/adjustments/", token, adjustment)
    reserve = {"reference": "order-zrh", "lines": [{"sku": "STICKER-PACK", "quantity": 2}]}
    dry_run = {**_auth(token), "X-Strangler-Shadow": "1"}  # what the monolith would hold, rolled back
    monoliths = httpx.post(monolith.base_url + "/api/inventory/reservations/", json=reserve, headers=dry_run)
    assert monoliths.status_code == 201, monoliths.text
    assert [line["warehouse"] for line in monoliths.json()["lines"]] == ["ZRH-1"]
    service = _service(tmp_path, monolith)
    service.run("backfill", "--token", token)
    assert ("ZRH-1", 5) in service.query("SELECT code, priority FROM inventory_service_warehouse")

    with _serving(service):
        services = httpx.post(service.base_url + "/api/inventory/reservations/", json=reserve, headers=_auth(token))

    assert services.status_code == 201, services.text
    assert services.json()["lines"] == monoliths.json()["lines"]


def test_a_partly_shipped_reservation_keeps_its_shipped_lines_and_a_release_gives_back_only_the_others(
    monolith: LiveMonolith, token: str, tmp_path: Path
) -> None:
    order_id = str(uuid.uuid4())
    held = _post(monolith.base_url, "/api/inventory/reservations/", token,
                 {"reference": order_id, "lines": [{"sku": "BOTTLE-STEEL", "quantity": 25}]})  # fmt: skip
    assert [(line["warehouse"], line["quantity"]) for line in held["lines"]] == [("BER-1", 20), ("HAM-1", 5)]
    shipment = _post(monolith.base_url, "/api/shipments/", token, {
        "order_id": order_id, "customer_id": 1, "warehouse": "HAM-1", "lines": [{"sku": "BOTTLE-STEEL", "quantity": 5}],
    })  # fmt: skip
    _post(monolith.base_url, f"/api/shipments/{shipment['id']}/dispatch/", token)  # HAM-1's line is consumed
    service = _service(tmp_path, monolith)
    service.run("backfill", "--token", token)
    copied = service.query(
        "SELECT w.code, l.consumed FROM inventory_service_reservationline l JOIN inventory_service_warehouse w "
        "ON w.id = l.warehouse_id WHERE l.reservation_id = %s ORDER BY w.code", uuid.UUID(held["id"]).hex,
    )  # fmt: skip
    assert [(code, bool(consumed)) for code, consumed in copied] == [("BER-1", False), ("HAM-1", True)]

    release = f"/api/inventory/reservations/{held['id']}/release/"
    with _serving(service):
        released = _post(service.base_url, release, token)
        services_stock = httpx.get(service.base_url + "/api/inventory/stock/BOTTLE-STEEL/").json()
    _post(monolith.base_url, release, token)
    monoliths_stock = httpx.get(monolith.base_url + "/api/inventory/stock/BOTTLE-STEEL/").json()

    assert released["status"] == "released"
    assert services_stock == monoliths_stock  # BER-1's 20 given back; HAM-1's 5 shipped, not given back twice
    assert (released["created_at"], released["lines"]) == (held["created_at"], [
        {**line, "consumed": line["warehouse"] == "HAM-1"} for line in held["lines"]
    ])  # fmt: skip
    # The service's first event for the reservation follows the monolith's two (reserved, consumed).
    events = service.query("SELECT event_type, aggregate_id, sequence FROM events_outboxevent")
    assert events == [("stock.released", held["id"], 3)]


def test_the_services_stock_events_are_numbered_after_the_monoliths(
    monolith: LiveMonolith, token: str, tmp_path: Path
) -> None:
    service = _service(tmp_path, monolith)
    service.run("backfill", "--token", token)
    recount = {"warehouse": "BER-1", "sku": "NOTEBOOK-A5", "delta": 1, "reason": "recount after the snapshot"}
    _post(monolith.base_url, "/api/inventory/adjustments/", token, recount)
    replicated = _outbox_payloads(monolith, "stock", "BER-1:NOTEBOOK-A5")
    received = service.run("replica_receive", "--consumer", "inventory", stdin=replicated[-1] + "\n").stdout
    assert json.loads(received) == {"handled": 1}
    backfilled_only = len(_outbox_payloads(monolith, "stock", "HAM-1:NOTEBOOK-A5"))

    with _serving(service):
        for warehouse in ("BER-1", "HAM-1"):
            _post(service.base_url, "/api/inventory/adjustments/", token,
                  {"warehouse": warehouse, "sku": "NOTEBOOK-A5", "delta": -1, "reason": "damaged"})  # fmt: skip

    events = service.query("SELECT aggregate_id, sequence FROM events_outboxevent ORDER BY id")
    assert events == [("BER-1:NOTEBOOK-A5", len(replicated) + 1), ("HAM-1:NOTEBOOK-A5", backfilled_only + 1)]


def test_replication_status_reads_the_monoliths_position_with_the_internal_token(
    monolith: LiveMonolith, token: str, tmp_path: Path
) -> None:
    service = _service(tmp_path, monolith)  # no monolith token: only STRANGLER_INTERNAL_TOKEN
    service.run("backfill", "--token", token)
    position = httpx.get(f"{monolith.base_url}/api/export/inventory/position", headers=_auth(token)).json()["events"]

    status = json.loads(service.run("replication_status").stdout)
    assert (status["source_events"], status["lag_events"]) == (position, 0)
    with _serving(service):
        internal = httpx.get(service.base_url + "/internal/replication", headers=_auth(INTERNAL_TOKEN)).json()
    assert internal["source_events"] == position

    # A monolith refusing the internal token: the monolith token, as before.
    fallback = {"STRANGLER_INTERNAL_TOKEN": "not-the-monoliths", "MONOLITH_TOKEN": token}
    assert json.loads(service.run("replication_status", env=fallback).stdout)["source_events"] == position
    refused = json.loads(service.run("replication_status", env={"STRANGLER_INTERNAL_TOKEN": "x"}).stdout)
    assert refused["source_events"] is None


@contextmanager
def _serving(service: InventoryService) -> Iterator[None]:
    service.start()
    try:
        yield
    finally:
        service.stop()


def _post(base_url: str, path: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(base_url + path, json=body, headers=_auth(token))
    assert response.is_success, f"POST {path}: {response.status_code} {response.text}"
    answer: dict[str, Any] = response.json()
    return answer


def _outbox_payloads(monolith: LiveMonolith, aggregate_type: str, aggregate_id: str) -> list[str]:
    with closing(sqlite3.connect(monolith.env["DATABASE_URL"].removeprefix("sqlite:///"))) as conn:
        rows = conn.execute(
            "SELECT payload FROM events_outboxevent WHERE aggregate_type = ? AND aggregate_id = ? ORDER BY sequence",
            (aggregate_type, aggregate_id),
        ).fetchall()
    return [payload for (payload,) in rows]


def test_reconcile_lists_what_differs_and_exits_1(monolith: LiveMonolith, token: str, tmp_path: Path) -> None:
    service = _service(tmp_path, monolith)
    service.run("backfill", "--token", token)
    with closing(sqlite3.connect(service.database_url.removeprefix("sqlite:///"))) as conn:
        conn.execute(
            "UPDATE inventory_service_stock SET on_hand = on_hand + 1 WHERE sku = 'MUG-LOGO' "
            "AND warehouse_id = (SELECT id FROM inventory_service_warehouse WHERE code = 'HAM-1')"
        )
        [(gone,)] = conn.execute("SELECT id FROM inventory_service_reservation LIMIT 1").fetchall()
        conn.execute("DELETE FROM inventory_service_reservationline WHERE reservation_id = ?", (gone,))
        conn.execute("DELETE FROM inventory_service_reservation WHERE id = ?", (gone,))
        conn.commit()

    result = service.run("reconcile", "--token", token, "--json", check=False)
    table = service.run("reconcile", "--token", token, check=False)

    assert (result.returncode, table.returncode) == (1, 1)
    resources = {r["resource"]: r for r in json.loads(result.stdout)["resources"]}
    assert (resources["stock"]["differing"], resources["stock"]["missing"]) == (["HAM-1:MUG-LOGO"], [])
    assert resources["reservations"]["missing"] == [str(uuid.UUID(gone))]
    assert "stock differing: HAM-1:MUG-LOGO" in table.stdout and "DIFFERENT" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no monolith token: pass --token or --token-file, or set MONOLITH_TOKEN"),
        (("--token", "not-a-token"), "the monolith refused the token (401 authentication_failed)"),
        (("--token", "t", "--page-size", "0"), "--page-size must be from 1 to 2000, got 0"),
        (("--token", "t", "--monolith-url", "http://127.0.0.1:{port}"), "cannot reach the monolith at"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    monolith: LiveMonolith, token: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    service = _service(tmp_path, monolith)
    args = tuple(a.format(port=free_port()) for a in args)
    for command in ("backfill", "reconcile"):
        result = service.run(command, *args, check=False)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert message in line, line
