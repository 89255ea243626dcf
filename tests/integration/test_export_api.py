"""The export API a backfill reads: the events' documents, each with its aggregate's sequence, page by page."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from events.models import AggregateSequence, OutboxEvent
from monolith.inventory.models import Reservation, Warehouse
from monolith.inventory.services import reservation_consume, reservation_create, reservation_release, stock_adjust
from monolith.payments.models import Payment
from monolith.payments.services import payment_authorize, payment_capture
from monolith.shipments.services import shipment_cancel, shipment_create

pytestmark = pytest.mark.django_db

EXPORT_PERMS = ("inventory.view_stock", "payments.view_payment", "shipments.view_shipment")
LISTS = ("inventory/warehouses/", "inventory/stock/", "inventory/reservations/", "payments/", "shipments/")
INTERNAL_TOKEN = "export-test-internal-token"


@pytest.fixture
def exporter(make_user: Any, client_for: Any) -> Any:
    return client_for(make_user("backfill", perms=EXPORT_PERMS, is_staff=True))


def last_event(aggregate_type: str, aggregate_id: str) -> dict[str, Any]:
    row = OutboxEvent.objects.filter(aggregate_type=aggregate_type, aggregate_id=aggregate_id).order_by("-sequence")[0]
    event: dict[str, Any] = json.loads(row.payload)
    return event


def export_all(client: Any, what: str, limit: int = 2000) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    url = f"/api/export/{what}?limit={limit}"
    for _ in range(100):
        page = client.get(url)
        assert page.status_code == 200, page.content
        body = page.json()
        assert len(body["results"]) <= limit
        records += body["results"]
        if body["next"] is None:
            return records
        url = f"/api/export/{what}?limit={limit}&after={body['next']}"
    raise AssertionError("the export never reached its last page")


def test_stock_records_are_the_levels_the_events_carry_with_their_sequence(shop: Any, exporter: Any) -> None:
    stock_adjust(warehouse_code="A", sku="MUG", delta=3, reason="recount", actor_id=None)

    records = export_all(exporter, "inventory/stock/")

    assert len(records) == len(shop["levels"])
    for record in records:
        aggregate_id = f"{record['warehouse']}:{record['sku']}"
        event = last_event("stock", aggregate_id)
        assert record == {
            **event["data"]["levels"][0],
            "aggregate_type": "stock",
            "aggregate_id": aggregate_id,
            "sequence": event["sequence"],
        }
    mug = next(r for r in records if r["aggregate_id"] == "A:MUG")
    assert (mug["on_hand"], mug["sequence"]) == (8, 2)


def event_shaped(record: dict[str, Any]) -> dict[str, Any]:
    """A reservation record without what only the export carries (``consumed`` per line, the timestamps)."""
    lines = [{k: v for k, v in line.items() if k != "consumed"} for line in record["lines"]]
    return {**{k: v for k, v in record.items() if k not in ("created_at", "updated_at")}, "lines": lines}


def test_reservation_records_are_the_event_data_without_levels(shop: Any, exporter: Any) -> None:
    kept = reservation_create(reference="order-1", lines=[("MUG", 7), ("TEE", 1)])
    released = reservation_create(reference="order-2", lines=[("CAP", 1)])
    reservation_release(reservation_id=released.id)

    records = {r["aggregate_id"]: r for r in export_all(exporter, "inventory/reservations/")}

    assert set(records) == {str(kept.id), str(released.id)}
    for reservation_id, record in records.items():
        event = last_event("reservation", reservation_id)
        data = {k: v for k, v in event["data"].items() if k != "levels"}
        assert event_shaped(record) == {**data, "aggregate_type": "reservation", "aggregate_id": reservation_id,
                                        "sequence": event["sequence"]}  # fmt: skip
        assert "consumed" not in str(event["data"]["lines"])  # the events keep their shape
    assert (records[str(released.id)]["status"], records[str(released.id)]["sequence"]) == ("released", 2)
    assert [(line["warehouse"], line["sku"]) for line in records[str(kept.id)]["lines"]] == [
        ("A", "MUG"),
        ("B", "MUG"),
        ("A", "TEE"),
    ]  # by sku, then warehouse, as the events order them


def test_reservation_records_say_which_lines_shipped_and_when_they_were_made(shop: Any, exporter: Any) -> None:
    partly = reservation_create(reference="order-1", lines=[("MUG", 7), ("TEE", 1)])  # MUG: 5 at A, 2 at B
    reservation_consume(reference="order-1", warehouse_code="B")

    [record] = export_all(exporter, "inventory/reservations/")

    assert record["status"] == "active"
    assert [(line["warehouse"], line["sku"], line["consumed"]) for line in record["lines"]] == [
        ("A", "MUG", False), ("B", "MUG", True), ("A", "TEE", False)
    ]  # fmt: skip
    stored = Reservation.objects.get(pk=partly.id)
    assert (record["created_at"], record["updated_at"]) == (stored.created_at.isoformat(),
                                                            stored.updated_at.isoformat())  # fmt: skip
    assert record["sequence"] == 2


def test_warehouse_records_carry_the_priorities_and_no_sequence(shop: Any, exporter: Any) -> None:
    Warehouse.objects.create(code="0-LAST", name="Ranked last", priority=9)

    records = export_all(exporter, "inventory/warehouses/", limit=1)

    in_key_order = (("A", "Alpha", 1), ("B", "Beta", 2), ("0-LAST", "Ranked last", 9))  # not rank, not code order
    assert records == [
        {"code": code, "name": name, "priority": priority, "aggregate_type": "warehouse", "aggregate_id": code,
         "sequence": 0}
        for code, name, priority in in_key_order
    ]  # fmt: skip


def test_payment_and_shipment_records_are_their_event_data(db: None, exporter: Any) -> None:
    order_id = uuid.uuid4()
    payment = payment_authorize(
        customer_id=7, amount=Decimal("30.00"), currency="EUR", card_token="tok_visa", order_id=order_id
    )
    payment_capture(payment_id=payment.id)
    shipment = shipment_create(order_id=order_id, customer_id=7, warehouse="A", lines=[("TEE", 1), ("MUG", 2)])
    shipment_cancel(shipment_id=shipment.id)

    [paid] = export_all(exporter, "payments/")
    [shipped] = export_all(exporter, "shipments/")

    captured = last_event("payment", str(payment.id))
    assert captured["type"] == "payment.captured"
    assert paid == {**captured["data"], "aggregate_type": "payment", "aggregate_id": str(payment.id), "sequence": 2}
    cancelled = last_event("shipment", str(shipment.id))
    assert shipped == {
        **cancelled["data"],
        "aggregate_type": "shipment",
        "aggregate_id": str(shipment.id),
        "sequence": 2,
    }
    assert [line["sku"] for line in shipped["lines"]] == ["MUG", "TEE"]


def test_a_record_that_never_published_has_sequence_zero(db: None, exporter: Any) -> None:
    legacy = Payment.objects.create(
        customer_id=1, amount=Decimal("5.00"), currency="EUR", status="authorized", gateway_reference="legacy"
    )

    [record] = export_all(exporter, "payments/")

    assert (record["payment_id"], record["sequence"], record["aggregate_id"]) == (str(legacy.id), 0, str(legacy.id))


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_pages_walk_every_record_once_in_a_stable_order(shop: Any, exporter: Any, limit: int) -> None:
    for n in range(4):
        reservation_create(reference=f"order-{n}", lines=[("MUG", 1)])

    for what in ("inventory/stock/", "inventory/reservations/"):
        everything = export_all(exporter, what)
        assert export_all(exporter, what, limit=limit) == everything
        assert len({r["aggregate_id"] for r in everything}) == len(everything)


def test_a_page_ending_at_the_last_record_has_no_next(shop: Any, exporter: Any) -> None:
    first = exporter.get("/api/export/inventory/stock/?limit=6").json()  # exactly the 6 stock rows
    assert (len(first["results"]), first["next"]) == (6, None)
    assert exporter.get("/api/export/inventory/stock/").json()["next"] is None  # default limit 500


def test_stock_sequences_are_the_aggregates_last_published_ones(shop: Any, exporter: Any) -> None:
    page = exporter.get("/api/export/inventory/stock/").json()["results"]
    stored = dict(AggregateSequence.objects.filter(aggregate_type="stock").values_list("aggregate_id", "last_sequence"))
    assert {r["aggregate_id"]: r["sequence"] for r in page} == stored


def test_position_counts_the_events_published_for_the_capability(shop: Any, exporter: Any) -> None:
    reservation_create(reference="order-1", lines=[("MUG", 1)])
    payment_authorize(customer_id=1, amount=Decimal("1.00"), currency="EUR", card_token="tok_visa")

    def events(*types: str) -> int:
        return OutboxEvent.objects.filter(aggregate_type__in=types).count()

    answers = {c: exporter.get(f"/api/export/{c}/position").json() for c in ("inventory", "payments", "shipments")}

    assert answers == {
        "inventory": {"capability": "inventory", "events": events("stock", "reservation")},
        "payments": {"capability": "payments", "events": events("payment")},
        "shipments": {"capability": "shipments", "events": 0},
    }
    assert answers["inventory"]["events"] == len(shop["levels"]) + 1


def test_position_also_takes_the_internal_token_and_nothing_else_does(shop: Any, settings: Any) -> None:
    settings.STRANGLER_INTERNAL_TOKEN = INTERNAL_TOKEN
    internal = Client(headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})

    position = internal.get("/api/export/inventory/position")
    assert (position.status_code, position.json()) == (200, {"capability": "inventory", "events": len(shop["levels"])})
    unknown = internal.get("/api/export/orders/position")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "capability_not_found")
    for what in LISTS:  # the records themselves still need a staff token
        refused = internal.get(f"/api/export/{what}")
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "authentication_failed")
    wrong = Client(headers={"Authorization": f"Bearer {INTERNAL_TOKEN}x"}).get("/api/export/inventory/position")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "authentication_failed")
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_without_an_internal_token_configured_the_position_needs_a_staff_token(db: None, settings: Any) -> None:
    settings.STRANGLER_INTERNAL_TOKEN = None
    response = Client(headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}).get("/api/export/payments/position")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "authentication_failed")


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("what", "after"),
    [
        ("payments/", "not a cursor!"),
        ("payments/", cursor({"before": "x"})),
        ("payments/", cursor({"after": "not-a-uuid"})),
        ("payments/", cursor({"after": 12})),
        ("inventory/stock/", cursor({"after": str(uuid.uuid4())})),
        ("inventory/stock/", cursor({"after": -1})),
        ("inventory/stock/", cursor({"after": True})),
        ("inventory/stock/", cursor([1])),
        ("shipments/", base64.urlsafe_b64encode(b"\xff\xfe").decode()),
    ],
)
def test_a_bad_cursor_is_a_400(db: None, exporter: Any, what: str, after: str) -> None:
    response = exporter.get(f"/api/export/{what}", {"after": after})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", ["0", "2001", "abc", "-5", "1.5", "", "٣"])
def test_a_bad_limit_is_a_400(db: None, exporter: Any, limit: str) -> None:
    response = exporter.get("/api/export/shipments/", {"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_limit",
        "message": "limit must be an integer from 1 to 2000.",
        "details": {"parameter": "limit", "minimum": 1, "maximum": 2000},
    }


def test_the_largest_limit_is_accepted(db: None, exporter: Any) -> None:
    assert exporter.get("/api/export/shipments/?limit=2000").json() == {"results": [], "next": None}


@pytest.mark.parametrize(
    "path",
    [*(f"/api/export/{what}" for what in LISTS), "/api/export/inventory/position", "/api/export/payments/position"],
)
def test_export_needs_a_token_and_the_capabilitys_view_permission(
    db: None, path: str, make_user: Any, client_for: Any
) -> None:
    anonymous = Client().get(path)
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "not_authenticated")
    other_perms = tuple(p for p in EXPORT_PERMS if not path.startswith(f"/api/export/{p.split('.')[0]}"))
    lacking = client_for(make_user("nosy", perms=other_perms)).get(path)
    assert (lacking.status_code, lacking.json()["error"]["code"]) == (403, "permission_denied")


def test_an_unknown_capability_has_no_position(db: None, exporter: Any) -> None:
    response = exporter.get("/api/export/orders/position")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "capability_not_found")


def test_export_endpoints_are_in_the_openapi_schema_and_internal_ones_are_not(db: None) -> None:
    paths = Client().get("/api/schema/?format=json").json()["paths"]

    for what in LISTS:
        operation = paths[f"/api/export/{what}"]["get"]
        assert {"bearerAuth": []} in operation["security"]
        assert {"200", "400", "401", "403"} <= set(operation["responses"])
        assert {p["name"] for p in operation["parameters"]} == {"after", "limit"}
    position = paths["/api/export/{capability}/position"]["get"]
    assert position["parameters"][0]["schema"]["enum"] == ["inventory", "payments", "shipments"]
    assert not [p for p in paths if p.startswith("/internal/")]
