"""The events inventory publishes, built from its rows. Called inside the services' transactions.

The builders (``levels``, ``reservation_snapshot``) also shape the export API's records, so a backfill stores
exactly the documents the events carry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events.outbox import publish
from monolith.inventory.models import Reservation, ReservationLine, Stock, StockAdjustment

SOURCE = "monolith/inventory"


def stock_aggregate_id(warehouse_code: str, sku: str) -> str:
    return f"{warehouse_code}:{sku}"


def levels(rows: Iterable[Stock]) -> list[dict[str, Any]]:
    return [
        {
            "warehouse": r.warehouse.code,
            "sku": r.sku,
            "on_hand": r.on_hand,
            "reserved": r.reserved,
            "version": r.version,
        }
        for r in sorted(rows, key=lambda r: (r.sku, r.warehouse.code))
    ]


def stock_adjusted(adjustment: StockAdjustment, row: Stock) -> None:
    publish(
        type="stock.adjusted", source=SOURCE, aggregate_type="stock",
        aggregate_id=stock_aggregate_id(row.warehouse.code, row.sku),
        data={"warehouse": row.warehouse.code, "sku": row.sku, "delta": adjustment.delta, "reason": adjustment.reason,
              "levels": levels([row])},
    )  # fmt: skip


def reservation_snapshot(reservation: Reservation, lines: Iterable[ReservationLine] | None = None) -> dict[str, Any]:
    """The reservation as its events carry it, without ``levels``. ``lines`` (if given) ordered by sku, warehouse."""
    if lines is None:
        lines = reservation.lines.select_related("warehouse").order_by("sku", "warehouse__code")
    return {
        "reservation_id": str(reservation.id), "reference": reservation.reference, "status": reservation.status,
        "lines": [{"warehouse": line.warehouse.code, "sku": line.sku, "quantity": line.quantity} for line in lines],
    }  # fmt: skip


def reservation_changed(event_type: str, reservation: Reservation, rows: Iterable[Stock], **extra: Any) -> None:
    publish(
        type=event_type, source=SOURCE, aggregate_type="reservation", aggregate_id=str(reservation.id),
        data={**reservation_snapshot(reservation), "levels": levels(rows), **extra},
    )  # fmt: skip
