"""Inventory's business errors, with the codes, messages and details the monolith's inventory answers with.

::

    InventoryError                      400 unless a subclass says otherwise
     ├── NotFound                       404  SkuNotFound, WarehouseNotFound, ReservationNotFound
     ├── Conflict                       409  InsufficientStock, AdjustmentBelowReserved, ReservationConsumed,
     │                                       StaleLevel
     ├── ZeroAdjustment                 400
     ├── InvalidQuantity                400
     └── EmptyReservation               400

``status`` is the HTTP status the API answers with; the entrypoints turn an error into the contract's JSON
error shape (``{"error": {"code", "message", "details"}}``). Raising one inside a unit of work rolls it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class InventoryError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class NotFound(InventoryError):
    status = 404
    code = "not_found"


class Conflict(InventoryError):
    status = 409
    code = "conflict"


class SkuNotFound(NotFound):
    code = "sku_not_found"

    def __init__(self, sku: str) -> None:
        super().__init__(f"No stock is kept for SKU {sku}.")


class WarehouseNotFound(NotFound):
    code = "warehouse_not_found"

    def __init__(self, warehouse: str) -> None:
        super().__init__(f"No warehouse {warehouse}.")


class ReservationNotFound(NotFound):
    code = "reservation_not_found"

    def __init__(self) -> None:
        super().__init__("No such reservation.")


class ZeroAdjustment(InventoryError):
    code = "zero_adjustment"

    def __init__(self) -> None:
        super().__init__("An adjustment must change the stock.")


class AdjustmentBelowReserved(Conflict):
    code = "adjustment_below_reserved"

    def __init__(self, *, warehouse: str, sku: str, on_hand: int, reserved: int, delta: int) -> None:
        super().__init__(
            f"Stock of {sku} at {warehouse} cannot go below what is reserved.",
            details={"on_hand": on_hand, "reserved": reserved, "delta": delta},
        )


class InvalidQuantity(InventoryError):
    code = "invalid_quantity"

    def __init__(self, sku: str) -> None:
        super().__init__("Quantities must be positive.", details={"sku": sku})


class EmptyReservation(InventoryError):
    code = "empty_reservation"

    def __init__(self) -> None:
        super().__init__("A reservation needs at least one line.")


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, shortages: list[tuple[str, int, int]]) -> None:
        """``shortages``: (sku, requested, available), in SKU order."""
        super().__init__(
            "Not enough stock for: " + ", ".join(sku for sku, _, _ in shortages) + ".",
            details={"skus": [{"sku": sku, "requested": wanted, "available": have} for sku, wanted, have in shortages]},
        )


class ReservationConsumed(Conflict):
    code = "reservation_consumed"

    def __init__(self) -> None:
        super().__init__("This reservation has already shipped.")


class StaleLevel(Conflict):
    """A stock level changed between its read and its write (a conditional write lost a race)."""

    code = "concurrent_update"

    def __init__(self, warehouse: str, sku: str) -> None:
        super().__init__(
            f"Stock of {sku} at {warehouse} changed concurrently; retry the request.",
            details={"warehouse": warehouse, "sku": sku},
        )
