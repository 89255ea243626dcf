"""The reporting consumer's real handlers, except that an order in currency XXX makes the handler crash."""

from __future__ import annotations

from events.envelope import Envelope
from monolith.reporting.handlers import on_order_confirmed

POISON_CURRENCY = "XXX"


def confirmed(envelope: Envelope) -> None:
    if envelope.data["currency"] == POISON_CURRENCY:
        raise RuntimeError("poison pill: this handler always fails on XXX orders")
    on_order_confirmed(envelope)


HANDLERS = {"reporting": {"order.confirmed": ["tests.e2e.poison_handlers.confirmed"]}}
