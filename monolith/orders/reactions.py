"""Orders' reactions to other apps' facts (wired in monolith.core.hooks)."""

from __future__ import annotations

import uuid

from monolith.orders.services import order_fulfil_if_shipped


def on_shipment_dispatched(*, order_id: uuid.UUID, warehouse: str) -> None:
    # Shipments and payment are read and captured through the ports, on whichever side owns them.
    order_fulfil_if_shipped(order_id=order_id)
