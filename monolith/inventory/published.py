"""The events inventory publishes, built from its rows. Called inside the services' transactions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events.outbox import publish
from monolith.inventory.models import Reservation, Stock, StockAdjustment

SOURCE = "monolith/inventory"


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
        type="stock.adjusted", source=SOURCE, aggregate_type="stock", aggregate_id=f"{row.warehouse.code}:{row.sku}",
        data={"warehouse": row.warehouse.code, "sku": row.sku, "delta": adjustment.delta, "reason": adjustment.reason,
              "levels": levels([row])},
    )  # fmt: skip


def reservation_changed(event_type: str, reservation: Reservation, rows: Iterable[Stock], **extra: Any) -> None:
    lines = [
        {"warehouse": line.warehouse.code, "sku": line.sku, "quantity": line.quantity}
        for line in reservation.lines.select_related("warehouse").order_by("sku", "warehouse__code")
    ]
    publish(
        type=event_type, source=SOURCE, aggregate_type="reservation", aggregate_id=str(reservation.id),
        data={"reservation_id": str(reservation.id), "reference": reservation.reference, "status": reservation.status,
              "lines": lines, "levels": levels(rows), **extra},
    )  # fmt: skip
