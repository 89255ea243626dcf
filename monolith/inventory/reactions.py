"""Inventory's reactions to other apps' facts (wired in monolith.core.hooks)."""

from __future__ import annotations

import uuid

from monolith.orders.bootstrap import checkout_ports


def on_shipment_dispatched(*, order_id: uuid.UUID, warehouse: str) -> None:
    # Through the inventory port: in process while the monolith owns inventory writes; once the service owns them
    # it consumes the stock itself from the shipment.dispatched event, and the port has nothing to do.
    checkout_ports().inventory().consume(reference=str(order_id), warehouse=warehouse)
