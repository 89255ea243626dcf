"""Inventory's reactions to other apps' facts (wired in monolith.core.hooks)."""

from __future__ import annotations

import uuid

from monolith.inventory.services import reservation_consume


def on_shipment_dispatched(*, order_id: uuid.UUID, warehouse: str) -> None:
    reservation_consume(reference=str(order_id), warehouse_code=warehouse)
