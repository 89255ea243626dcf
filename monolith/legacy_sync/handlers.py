"""The ``legacy-sync`` consumer: the services' events written into the monolith's legacy tables.

Listed in ``monolith/event_handlers.py``; run by the events inbox inside each delivery's transaction, so a
redelivery has no second effect, and each handler applies whole state (stock by version), so a replay has none
either. Nothing here publishes an event or calls a write service (no echo, no fence). The one action a service's
event implies in the monolith: a shipment the shipment service dispatched runs the reactions of a local dispatch
(consume the stock held for it, fulfil the order once every shipment left), through the checkout's ports.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from events.envelope import Envelope
from monolith.core.hooks import notify
from monolith.legacy_sync import rows

logger = logging.getLogger(__name__)

# The monolith's own events are never applied back to its tables (a misrouted rule would echo them).
OWN_SOURCE_PREFIX = "monolith/"


def _foreign(envelope: Envelope) -> bool:
    if envelope.source.startswith(OWN_SOURCE_PREFIX):
        logger.warning("legacy-sync ignores the monolith's own %s from %s", envelope.type, envelope.source)
        return False
    return True


def on_stock_adjusted(envelope: Envelope) -> None:
    if _foreign(envelope):
        rows.levels_apply(envelope.data["levels"])


def on_reservation_changed(envelope: Envelope) -> None:
    """stock.reserved, stock.released, stock.consumed: the reservation, its lines and the levels it moved."""
    if _foreign(envelope):
        consumed_at = envelope.data["warehouse"] if envelope.type == "stock.consumed" else None
        rows.reservation_upsert(envelope.data, consumed_at=consumed_at)
        rows.levels_apply(envelope.data["levels"])


def on_payment_changed(envelope: Envelope) -> None:
    if _foreign(envelope):
        rows.payment_upsert(envelope.data)


def on_shipment_changed(envelope: Envelope) -> None:
    if _foreign(envelope):
        rows.shipment_upsert(envelope.data, at=datetime.fromisoformat(envelope.time))


def on_shipment_dispatched(envelope: Envelope) -> None:
    if _foreign(envelope):
        shipment = rows.shipment_upsert(envelope.data, at=datetime.fromisoformat(envelope.time))
        notify("shipment_dispatched", order_id=uuid.UUID(envelope.data["order_id"]), warehouse=shipment.warehouse)
