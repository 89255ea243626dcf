"""The payment service's event handlers (``EVENTS["HANDLERS"]``), in one table.

Consumer ``payment`` is the replica: the monolith's ``payment.*`` events (queue ``payment``, routed by the
monolith's rules file) applied to this service's tables, publishing nothing. Whole state, newer only
(``adapters.replica``).
"""

from __future__ import annotations

from datetime import datetime

from events.envelope import Envelope
from extracted_services.common.replication import record_applied
from extracted_services.payment.adapters.replica import CONSUMER, apply_document

MONOLITH_SOURCE = "monolith/payments"


def on_payment_changed(envelope: Envelope) -> None:
    if envelope.source != MONOLITH_SOURCE:  # this service's own events are not replicated back into it
        return
    apply_document(envelope.data, sequence=envelope.sequence, at=datetime.fromisoformat(envelope.time))
    record_applied(CONSUMER, envelope)


_REPLICA = "extracted_services.payment.entrypoints.event_handlers.on_payment_changed"

HANDLERS = {
    CONSUMER: {
        "payment.authorized": [_REPLICA],
        "payment.captured": [_REPLICA],
        "payment.voided": [_REPLICA],
        "payment.refunded": [_REPLICA],
    },
}
