from __future__ import annotations

import json

import pytest

from events.catalogue import LOCK_FILE, SCHEMA_DIR, Catalogue, SchemaViolation, UnknownEventType, file_digest

REQUIRED_TYPES = {
    "order.placed", "order.confirmed", "order.cancelled", "order.fulfilled", "stock.adjusted", "stock.reserved",
    "stock.reservation_failed", "stock.released", "payment.authorized", "payment.declined", "payment.captured",
    "payment.voided", "payment.refunded", "shipment.created", "shipment.dispatched", "shipment.delivered",
    "shipment.cancelled",
}  # fmt: skip


def test_catalogue_lists_every_required_event_type() -> None:
    assert REQUIRED_TYPES <= set(Catalogue.default().types())


def test_released_schema_versions_never_change() -> None:
    locked = json.loads(LOCK_FILE.read_text())
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        assert path.name in locked, f"{path.name} is not released: run python -m events.catalogue lock"
        assert file_digest(path) == locked[path.name], (
            f"{path.name} changed after release: add {path.name.split('.v')[0]}.v<next>.json instead"
        )
    assert set(locked) <= {p.name for p in SCHEMA_DIR.glob("*.json")}, "a released schema file was deleted"


def test_violation_names_the_path() -> None:
    with pytest.raises(SchemaViolation, match="at lines/0/quantity"):
        Catalogue.default().validate(
            "shipment.dispatched",
            1,
            {
                "shipment_id": "6f1c1e4e-8d63-4bd4-9d0c-6b0f6c1e0a11",
                "order_id": "6f1c1e4e-8d63-4bd4-9d0c-6b0f6c1e0a12",
                "customer_id": 1, "warehouse": "A", "status": "dispatched", "tracking_number": "T",
                "lines": [{"sku": "MUG", "quantity": 0}],
            },
        )  # fmt: skip


def test_unknown_type_or_version() -> None:
    with pytest.raises(UnknownEventType):
        Catalogue.default().validate("order.exploded", 1, {})
    with pytest.raises(UnknownEventType):
        Catalogue.default().uri("order.placed", 99)
