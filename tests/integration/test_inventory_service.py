"""The inventory service's event side, run as its own processes on its own database (SQLite, or PostgreSQL in the
PostgreSQL pass): the replica of the monolith's stock events, ``shipment.dispatched`` following ownership, the
events it publishes, replication status and its start-up checks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.catalogue import Catalogue
from events.envelope import Envelope
from strangler_proxy.config import load_config
from strangler_proxy.model import Mode
from strangler_proxy.state import open_store
from tests.conftest import ON_POSTGRES
from tests.e2e.inventory_service_support import (
    InventoryService,
    event,
    level,
    reservation_event,
    service_database,
    stock_adjusted,
)
from tests.e2e.processes import ROOT, free_port

EXAMPLE = ROOT / "strangler_proxy" / "example.yaml"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InventoryService]:
    workdir = tmp_path_factory.mktemp("inventory-service")
    with service_database(workdir, postgres=ON_POSTGRES) as url:
        # MONOLITH_URL: a closed port, so replication status has no source count to read.
        yield InventoryService.create(workdir, url, MONOLITH_URL=f"http://127.0.0.1:{free_port()}")


def _stock(service: InventoryService, sku: str) -> dict[str, tuple[int, int, int]]:
    rows = service.query(
        "SELECT w.code, s.on_hand, s.reserved, s.version FROM inventory_service_stock s "
        "JOIN inventory_service_warehouse w ON w.id = s.warehouse_id WHERE s.sku = %s",
        sku,
    )
    return {code: (on_hand, reserved, version) for code, on_hand, reserved, version in rows}


def _reservation(service: InventoryService, reservation_id: str) -> tuple[str, list[tuple[str, str, int, bool]]]:
    key = _db_uuid(service, reservation_id)
    [(status,)] = service.query("SELECT status FROM inventory_service_reservation WHERE id = %s", key)
    lines = service.query(
        "SELECT w.code, l.sku, l.quantity, l.consumed FROM inventory_service_reservationline l "
        "JOIN inventory_service_warehouse w ON w.id = l.warehouse_id WHERE l.reservation_id = %s ORDER BY w.code",
        key,
    )
    return status, [(w, sku, q, bool(consumed)) for w, sku, q, consumed in lines]


def _db_uuid(service: InventoryService, value: str) -> str | uuid.UUID:
    # Django stores UUIDs as 32 hex digits on SQLite and as uuid on PostgreSQL.
    return uuid.UUID(value).hex if service.database_url.startswith("sqlite") else uuid.UUID(value)


def _outbox(service: InventoryService) -> list[dict[str, object]]:
    rows = service.query("SELECT payload FROM events_outboxevent ORDER BY id")
    return [json.loads(payload) for (payload,) in rows]


def test_the_replica_stores_the_monoliths_stock_and_reservations_and_publishes_nothing(
    service: InventoryService,
) -> None:
    reservation_id = str(uuid.uuid4())
    outcomes = service.receive(
        stock_adjusted("A", "REP-1", on_hand=5, version=1, sequence=1),
        stock_adjusted("B", "REP-1", on_hand=4, version=1, sequence=1),
        reservation_event(
            "stock.reserved", reservation_id, status="active", lines=[("A", "REP-1", 2)],
            levels=[level("A", "REP-1", 5, 2, 2)], sequence=1,
        ),
    )  # fmt: skip
    assert outcomes == {"handled": 3}
    assert _stock(service, "REP-1") == {"A": (5, 2, 2), "B": (4, 0, 1)}
    assert _reservation(service, reservation_id) == ("active", [("A", "REP-1", 2, False)])
    assert _outbox(service) == []


def test_a_redelivery_or_an_older_level_has_no_second_effect(service: InventoryService) -> None:
    first = stock_adjusted("A", "REP-2", on_hand=3, version=1, sequence=1)
    newer = reservation_event(
        "stock.reserved", str(uuid.uuid4()), status="active", lines=[("A", "REP-2", 1)],
        levels=[level("A", "REP-2", 3, 1, 2)], sequence=1,
    )  # fmt: skip
    # The adjustment's event carries version 2 but reached the replica after the reservation's version 2 level:
    # different aggregates, so any order; the level's version decides.
    late = stock_adjusted("A", "REP-2", on_hand=9, version=2, sequence=2, delta=6)
    assert service.receive(first, newer, first) == {"duplicate": 1, "handled": 2}
    assert service.receive(late) == {"handled": 1}
    assert _stock(service, "REP-2") == {"A": (3, 1, 2)}


def test_released_and_consumed_reservations_follow_the_monolith(service: InventoryService) -> None:
    rid = str(uuid.uuid4())
    lines = [("A", "REP-3", 2), ("B", "REP-3", 1)]
    service.receive(
        stock_adjusted("A", "REP-3", on_hand=2, version=1, sequence=1),
        stock_adjusted("B", "REP-3", on_hand=1, version=1, sequence=1),
        reservation_event("stock.reserved", rid, status="active", lines=lines, sequence=1,
                          levels=[level("A", "REP-3", 2, 2, 2), level("B", "REP-3", 1, 1, 2)]),
        reservation_event("stock.consumed", rid, status="active", lines=lines, sequence=2, warehouse="A",
                          levels=[level("A", "REP-3", 0, 0, 3)]),
    )  # fmt: skip
    assert _reservation(service, rid) == ("active", [("A", "REP-3", 2, True), ("B", "REP-3", 1, False)])
    service.receive(
        reservation_event("stock.released", rid, status="released", lines=lines, sequence=3,
                          levels=[level("B", "REP-3", 1, 0, 3)]),
    )  # fmt: skip
    assert _reservation(service, rid) == ("released", [("A", "REP-3", 2, True), ("B", "REP-3", 1, False)])
    assert _stock(service, "REP-3") == {"A": (0, 0, 3), "B": (1, 0, 3)}


def test_an_event_the_backfill_covered_still_brings_the_newer_levels_it_carries(service: InventoryService) -> None:
    # The backfill read the reservation after it was consumed (its position is seeded at 2) but the stock page
    # before the consumption: the covered stock.consumed is the only carrier of the newer levels.
    rid = str(uuid.uuid4())
    lines = [("A", "COV-1", 1), ("B", "COV-1", 1)]
    service.receive(
        stock_adjusted("A", "COV-1", on_hand=5, reserved=1, version=4, sequence=1),
        stock_adjusted("B", "COV-1", on_hand=7, reserved=1, version=6, sequence=1),
    )
    service.execute(
        "INSERT INTO events_consumerposition (consumer, aggregate_type, aggregate_id, last_sequence, baseline) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id", "inventory", "reservation", rid, 2, 2,
    )  # fmt: skip
    consumed = reservation_event(
        "stock.consumed", rid, status="active", lines=lines, sequence=2, warehouse="A",
        levels=[level("A", "COV-1", 4, 0, 5), level("B", "COV-1", 7, 1, 5)],  # B's version 5 is older than 6
    )  # fmt: skip
    assert service.receive(consumed) == {"covered": 1}
    assert _stock(service, "COV-1") == {"A": (4, 0, 5), "B": (7, 1, 6)}
    assert service.receive(consumed) == {"duplicate": 1}
    assert _stock(service, "COV-1") == {"A": (4, 0, 5), "B": (7, 1, 6)}


def _dispatched(order_id: str, warehouse: str, sku: str, quantity: int) -> Envelope:
    shipment_id = str(uuid.uuid4())
    data = {
        "shipment_id": shipment_id, "order_id": order_id, "customer_id": 7, "warehouse": warehouse,
        "status": "dispatched", "tracking_number": "TRK-1", "lines": [{"sku": sku, "quantity": quantity}],
    }  # fmt: skip
    return event("shipment.dispatched", data, aggregate_type="shipment", aggregate_id=shipment_id, sequence=2,
                 source="monolith/shipments")  # fmt: skip


def _held_order(service: InventoryService, sku: str) -> tuple[str, str]:
    order_id, rid = str(uuid.uuid4()), str(uuid.uuid4())
    service.receive(
        stock_adjusted("A", sku, on_hand=5, version=1, sequence=1),
        reservation_event("stock.reserved", rid, reference=order_id, status="active", lines=[("A", sku, 3)],
                          levels=[level("A", sku, 5, 3, 2)], sequence=1),
    )  # fmt: skip
    return order_id, rid


def test_a_dispatched_shipment_is_left_to_the_monolith_while_it_owns_inventory(service: InventoryService) -> None:
    order_id, rid = _held_order(service, "OWN-1")
    before = len(_outbox(service))
    assert service.receive(_dispatched(order_id, "A", "OWN-1", 3)) == {"handled": 1}
    assert _reservation(service, rid) == ("active", [("A", "OWN-1", 3, False)])
    assert _stock(service, "OWN-1") == {"A": (5, 3, 2)}
    assert len(_outbox(service)) == before


def test_once_the_service_owns_inventory_it_consumes_dispatched_stock_and_publishes_it(
    service: InventoryService, tmp_path: Path
) -> None:
    state_url = f"sqlite:///{tmp_path / 'proxy-state.sqlite3'}"
    store = open_store(state_url)
    store.seed(load_config(EXAMPLE).groups.values())
    store.change("inventory", mode=Mode.SERVICE, percent=100, reason="cut over", who="test", automatic=False)
    store.close()
    order_id, rid = _held_order(service, "OWN-2")
    before = len(_outbox(service))

    outcomes = service.run(
        "replica_receive", "--consumer", "inventory", env={"STRANGLER_STATE_URL": state_url},
        stdin=_dispatched(order_id, "A", "OWN-2", 3).to_json().decode() + "\n",
    )  # fmt: skip

    assert json.loads(outcomes.stdout) == {"handled": 1}
    assert _reservation(service, rid) == ("consumed", [("A", "OWN-2", 3, True)])
    assert _stock(service, "OWN-2") == {"A": (2, 0, 3)}
    [published] = _outbox(service)[before:]
    assert (published["type"], published["source"], published["aggregatetype"], published["subject"]) == (
        "stock.consumed", "inventory-service", "reservation", rid
    )  # fmt: skip
    assert published["data"] == {
        "reservation_id": rid, "reference": order_id, "status": "consumed",
        "lines": [{"warehouse": "A", "sku": "OWN-2", "quantity": 3}],
        "levels": [{"warehouse": "A", "sku": "OWN-2", "on_hand": 2, "reserved": 0, "version": 3}], "warehouse": "A",
    }  # fmt: skip
    Catalogue.default().validate("stock.consumed", 1, published["data"])


def test_replication_status_sums_the_replicas_positions(service: InventoryService) -> None:
    service.receive(stock_adjusted("A", "LAG-1", on_hand=1, version=1, sequence=1))
    [(expected,)] = service.query(
        "SELECT SUM(last_sequence) FROM events_consumerposition WHERE consumer = 'inventory' "
        "AND aggregate_type IN ('stock', 'reservation')"
    )
    status = json.loads(service.run("replication_status", "--timeout", "1").stdout)
    assert status["capability"] == "inventory"
    assert status["applied"] == expected > 0
    assert (status["source_events"], status["lag_events"]) == (None, None)  # the monolith is not reachable
    assert isinstance(status["lag_seconds"], float) and status["lag_seconds"] >= 0


def test_an_unknown_consumer_is_refused_with_one_line(service: InventoryService) -> None:
    result = service.run("replica_receive", "--consumer", "nobody", stdin="", check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "CommandError: --consumer 'nobody' has no handlers (known: inventory)"
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_PUBLIC_KEY_FILE": "/nonexistent/jwt-public.pem"}, "JWT_PUBLIC_KEY_FILE: /nonexistent/jwt-public.pem"),
        (
            {"INVENTORY_REPOSITORY": "dynamodb", "INVENTORY_DYNAMODB_TABLE_PREFIX": "no spaces"},
            "INVENTORY_DYNAMODB_TABLE_PREFIX must be",
        ),
        ({"INVENTORY_REPOSITORY": "mongo"}, "INVENTORY_REPOSITORY must be one of orm, dynamodb, got 'mongo'"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false, got 'maybe'"),
    ],
)
def test_a_misconfigured_service_refuses_to_start_naming_the_setting(
    service: InventoryService, env: dict[str, str], message: str
) -> None:
    result = service.run("check", env=env, check=False)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("python -m extracted_services.inventory: ") and message in line


def test_internal_endpoints_are_disabled_without_the_internal_token(service: InventoryService) -> None:
    code = (
        "from django.test import Client; r = Client().get('/internal/replication'); "
        "print(r.status_code, r.json()['error']['code'])"
    )
    result = service.run("shell", "-c", code, env={"STRANGLER_INTERNAL_TOKEN": ""})
    assert result.stdout.split()[-2:] == ["503", "internal_api_disabled"]
