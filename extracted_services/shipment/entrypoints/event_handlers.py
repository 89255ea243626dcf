"""The shipment service's event handlers (``EVENTS["HANDLERS"]``), in one table.

Consumer ``shipment`` is the replica: the monolith's ``shipment.*`` events (queue ``shipment``, routed by the
monolith's rules file) applied to this service's tables, publishing nothing. Whole state, newer only
(``adapters.replica``).
"""

from __future__ import annotations

from datetime import datetime

from events.envelope import Envelope
from extracted_services.common.replication import record_applied
from extracted_services.shipment.adapters.replica import CONSUMER, apply_document

MONOLITH_SOURCE = "monolith/shipments"


def on_shipment_changed(envelope: Envelope) -> None:
    if envelope.source != MONOLITH_SOURCE:  # this service's own events are not replicated back into it
        return
    apply_document(envelope.data, sequence=envelope.sequence, at=datetime.fromisoformat(envelope.time))
    record_applied(CONSUMER, envelope)


_REPLICA = "extracted_services.shipment.entrypoints.event_handlers.on_shipment_changed"

HANDLERS = {
    CONSUMER: {
        "shipment.created": [_REPLICA],
        "shipment.dispatched": [_REPLICA],
        "shipment.delivered": [_REPLICA],
        "shipment.cancelled": [_REPLICA],
    },
}
