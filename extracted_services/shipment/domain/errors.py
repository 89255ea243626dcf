"""The shipment rules' errors, each with the monolith's code, message and details (the API contract).

::

    DomainError (monolith.core.errors)
     ├── InvalidShipmentLines         400 invalid_shipment_lines
     ├── ShipmentNotFound             404 shipment_not_found
     ├── ShipmentExists               409 shipment_exists
     └── InvalidShipmentTransition    409 invalid_shipment_transition   {"from": "delivered", "to": "cancelled"}
"""

from __future__ import annotations

import uuid

from monolith.core.errors import Conflict, DomainError, NotFound

__all__ = ["InvalidShipmentLines", "InvalidShipmentTransition", "ShipmentExists", "ShipmentNotFound"]


class InvalidShipmentLines(DomainError):
    code = "invalid_shipment_lines"

    def __init__(self) -> None:
        super().__init__("A shipment needs lines with positive quantities.")


class ShipmentNotFound(NotFound):
    code = "shipment_not_found"

    def __init__(self) -> None:
        super().__init__("No such shipment.")


class ShipmentExists(Conflict):
    code = "shipment_exists"

    def __init__(self, *, order_id: uuid.UUID, warehouse: str) -> None:
        super().__init__(f"Order {order_id} already has a shipment from {warehouse}.")


class InvalidShipmentTransition(Conflict):
    code = "invalid_shipment_transition"

    def __init__(self, *, from_status: str, to_status: str) -> None:
        super().__init__(
            f"A {from_status} shipment cannot become {to_status}.", details={"from": from_status, "to": to_status}
        )
