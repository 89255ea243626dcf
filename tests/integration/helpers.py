from __future__ import annotations

from typing import Any

from monolith.inventory.models import Stock
from monolith.orders.models import Order
from monolith.payments.models import Payment
from monolith.shipments.models import Shipment


def stock_levels() -> dict[tuple[str, str], tuple[int, int]]:
    """(warehouse, sku) → (on hand, reserved) for every stock row."""
    return {(s.warehouse.code, s.sku): (s.on_hand, s.reserved) for s in Stock.objects.select_related("warehouse")}


def row_counts() -> dict[str, int]:
    return {
        "orders": Order.objects.count(),
        "payments": Payment.objects.count(),
        "shipments": Shipment.objects.count(),
    }


def order_body(lines: list[tuple[str, int]], token: str = "tok_visa") -> dict[str, Any]:
    return {"lines": [{"sku": s, "quantity": q} for s, q in lines], "payment": {"card_token": token}}
