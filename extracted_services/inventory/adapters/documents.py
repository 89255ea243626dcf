"""Inventory's documents on the wire, both ways: the ``data`` of ``stock.*`` events and the export's records.

One home for the shapes the monolith publishes (``monolith/inventory/published.py``), so this service's events,
its replica and its reconciliation agree with them field for field:

- a level: ``{"warehouse", "sku", "on_hand", "reserved", "version"}``, lists sorted by (sku, warehouse);
- a reservation: ``{"reservation_id", "reference", "status", "lines": [{"warehouse", "sku", "quantity"}]}``,
  lines sorted by (sku, warehouse).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from extracted_services.common.capability import BadRecord
from extracted_services.inventory.domain.model import (
    DEFAULT_PRIORITY,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    Warehouse,
)


def level_document(level: StockLevel) -> dict[str, Any]:
    return {
        "warehouse": level.warehouse, "sku": level.sku, "on_hand": level.on_hand, "reserved": level.reserved,
        "version": level.version,
    }  # fmt: skip


def levels_document(levels: Iterable[StockLevel]) -> list[dict[str, Any]]:
    return [level_document(level) for level in sorted(levels, key=lambda level: (level.sku, level.warehouse))]


def reservation_document(reservation: Reservation) -> dict[str, Any]:
    lines = sorted(reservation.lines, key=lambda line: (line.sku, line.warehouse))
    return {
        "reservation_id": str(reservation.id),
        "reference": reservation.reference,
        "status": str(reservation.status),
        "lines": [{"warehouse": line.warehouse, "sku": line.sku, "quantity": line.quantity} for line in lines],
    }


def level_from(document: Mapping[str, Any]) -> StockLevel:
    return StockLevel(
        warehouse=_text(document, "warehouse"), sku=_text(document, "sku"), on_hand=_count(document, "on_hand"),
        reserved=_count(document, "reserved"), version=_count(document, "version"),
    )  # fmt: skip


def reservation_from(
    document: Mapping[str, Any], *, created_at: datetime | None = None, updated_at: datetime | None = None
) -> Reservation:
    """A reservation from an event's data or an export record. Lines may say ``consumed`` (the export may)."""
    try:
        reservation_id = uuid.UUID(_text(document, "reservation_id"))
        status = ReservationStatus(_text(document, "status"))
    except ValueError as exc:
        raise BadRecord(f"reservation {document.get('reservation_id')!r}: {exc}") from None
    lines = document.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, Mapping) for line in lines):
        raise BadRecord(f"reservation {reservation_id}: 'lines' is not a list of objects")
    return Reservation(
        id=reservation_id, reference=_text(document, "reference"), status=status,
        lines=tuple(_line(line) for line in lines), created_at=created_at, updated_at=updated_at,
    )  # fmt: skip


def warehouse_from(document: Mapping[str, Any]) -> Warehouse:
    priority = document.get("priority", DEFAULT_PRIORITY)
    if isinstance(priority, bool) or not isinstance(priority, int) or priority < 0:
        raise BadRecord(f"warehouse {document.get('code')!r}: 'priority' is not a whole number")
    code = _text(document, "code")
    return Warehouse(code=code, name=str(document.get("name") or code), priority=priority)


def timestamp(document: Mapping[str, Any], name: str) -> datetime | None:
    raw = document.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        raise BadRecord(f"{name} {raw!r} is not an ISO 8601 time") from None


def _line(document: Mapping[str, Any]) -> ReservationLine:
    quantity = _count(document, "quantity")
    if quantity < 1:
        raise BadRecord(f"a reservation line of {document.get('sku')!r} has quantity {quantity}")
    return ReservationLine(
        warehouse=_text(document, "warehouse"), sku=_text(document, "sku"), quantity=quantity,
        consumed=bool(document.get("consumed", False)),
    )  # fmt: skip


def _text(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise BadRecord(f"{name!r} must be a non-empty string, got {value!r}")
    return value


def _count(document: Mapping[str, Any], name: str) -> int:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRecord(f"{name!r} must be a whole number, got {value!r}")
    return value
