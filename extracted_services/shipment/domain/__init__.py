"""The shipment rules: no Django, Celery or I/O here (mypy strict)."""

from __future__ import annotations

from extracted_services.shipment.domain.errors import (
    InvalidShipmentLines,
    InvalidShipmentTransition,
    ShipmentExists,
    ShipmentNotFound,
)
from extracted_services.shipment.domain.events import (
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentEvent,
)
from extracted_services.shipment.domain.model import (
    TRANSITIONS,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    new_tracking_number,
)

__all__ = [
    "TRANSITIONS",
    "InvalidShipmentLines",
    "InvalidShipmentTransition",
    "Shipment",
    "ShipmentCancelled",
    "ShipmentCreated",
    "ShipmentDelivered",
    "ShipmentDispatched",
    "ShipmentEvent",
    "ShipmentExists",
    "ShipmentLine",
    "ShipmentNotFound",
    "ShipmentStatus",
    "new_tracking_number",
]
