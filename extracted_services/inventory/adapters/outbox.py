"""Inventory's domain events into the outbox, as the monolith publishes them but with source ``inventory-service``.

Same types, aggregates (``stock`` / ``warehouse:sku``, ``reservation`` / id) and data shapes as
``monolith/inventory/published.py``, so the monolith's legacy-sync handlers (and any consumer) read either
side's events alike. Called by the unit of work inside its transaction.

The numbering continues the monolith's: storing a replicated record raises the service's sequence of its aggregate
(``extracted_services.common.numbering``, called by the replica's handlers and the backfill), so the first event
published here for a record the monolith published before is numbered after the monolith's last one.
"""

from __future__ import annotations

from typing import Any

from events.outbox import publish
from extracted_services.inventory.adapters.documents import levels_document, reservation_document
from extracted_services.inventory.domain.events import (
    Event,
    StockAdjusted,
    StockConsumed,
    StockReleased,
    StockReserved,
)
from extracted_services.inventory.domain.model import Reservation, StockLevel

SOURCE = "inventory-service"
STOCK = "stock"  # aggregate types; a stock aggregate's id is stock_aggregate_id(warehouse, sku)
RESERVATION = "reservation"


def stock_aggregate_id(warehouse: str, sku: str) -> str:
    return f"{warehouse}:{sku}"


def publish_event(event: Event) -> None:
    if isinstance(event, StockAdjusted):
        level, adjustment = event.level, event.adjustment
        publish(
            type="stock.adjusted", source=SOURCE, aggregate_type=STOCK,
            aggregate_id=stock_aggregate_id(level.warehouse, level.sku),
            data={"warehouse": level.warehouse, "sku": level.sku, "delta": adjustment.delta,
                  "reason": adjustment.reason, "levels": levels_document([level])},
        )  # fmt: skip
    elif isinstance(event, StockReserved):
        _reservation_changed("stock.reserved", event.reservation, event.levels)
    elif isinstance(event, StockReleased):
        _reservation_changed("stock.released", event.reservation, event.levels)
    elif isinstance(event, StockConsumed):
        _reservation_changed("stock.consumed", event.reservation, event.levels, warehouse=event.warehouse)
    else:  # pragma: no cover - a new event type without its mapping
        raise TypeError(f"no outbox mapping for {type(event).__name__}")


def _reservation_changed(
    event_type: str, reservation: Reservation, levels: tuple[StockLevel, ...], **extra: Any
) -> None:
    publish(
        type=event_type, source=SOURCE, aggregate_type=RESERVATION, aggregate_id=str(reservation.id),
        data={**reservation_document(reservation), "levels": levels_document(levels), **extra},
    )  # fmt: skip
