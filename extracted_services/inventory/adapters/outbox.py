"""Inventory's domain events into the outbox, as the monolith publishes them but with source ``inventory-service``.

Same types, aggregates (``stock`` / ``warehouse:sku``, ``reservation`` / id) and data shapes as
``monolith/inventory/published.py``, so the monolith's legacy-sync handlers (and any consumer) read either
side's events alike. Called by the unit of work inside its transaction.
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


def publish_event(event: Event) -> None:
    if isinstance(event, StockAdjusted):
        level, adjustment = event.level, event.adjustment
        publish(
            type="stock.adjusted", source=SOURCE, aggregate_type="stock", aggregate_id=f"{level.warehouse}:{level.sku}",
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
        type=event_type, source=SOURCE, aggregate_type="reservation", aggregate_id=str(reservation.id),
        data={**reservation_document(reservation), "levels": levels_document(levels), **extra},
    )  # fmt: skip
