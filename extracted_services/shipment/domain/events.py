"""Facts a shipment records as it moves. Each carries the shipment's whole state after the change
(``document``, the catalogue's ``shipment.*`` data)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["ShipmentCancelled", "ShipmentCreated", "ShipmentDelivered", "ShipmentDispatched", "ShipmentEvent"]


@dataclass(frozen=True)
class ShipmentEvent:
    type: ClassVar[str]
    shipment_id: uuid.UUID
    document: Mapping[str, Any] = field(repr=False)

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.document)


@dataclass(frozen=True)
class ShipmentCreated(ShipmentEvent):
    type: ClassVar[str] = "shipment.created"


@dataclass(frozen=True)
class ShipmentDispatched(ShipmentEvent):
    type: ClassVar[str] = "shipment.dispatched"


@dataclass(frozen=True)
class ShipmentDelivered(ShipmentEvent):
    type: ClassVar[str] = "shipment.delivered"


@dataclass(frozen=True)
class ShipmentCancelled(ShipmentEvent):
    type: ClassVar[str] = "shipment.cancelled"
