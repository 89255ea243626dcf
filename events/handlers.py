"""Each consumer's handler table: which function handles which event type, listed in one place per project.

::

    # settings.EVENTS["HANDLERS"] = "monolith.event_handlers.HANDLERS"
    HANDLERS = {
        "reporting": {
            "order.confirmed": ["monolith.reporting.handlers.on_order_confirmed"],
            "order.cancelled": ["monolith.reporting.handlers.on_order_cancelled"],
        },
    }

A handler takes the ``Envelope`` and runs inside the delivery's transaction.

A key ``covered:<type>`` lists handlers for events of that type that the consumer's seeded snapshot already
covers (``events.positions.seed_position``): the event's own aggregate is in the snapshot, so the ordinary
handlers do not run, but records of other aggregates the event carries may be newer than the snapshot's copy.
Such handlers must be idempotent and guarded by those records' versions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache

from django.utils.module_loading import import_string

from events.conf import get_config
from events.envelope import Envelope

Handler = Callable[[Envelope], None]
COVERED_PREFIX = "covered:"


def _resolve(handler: str | Handler) -> Handler:
    resolved: Handler = import_string(handler) if isinstance(handler, str) else handler
    return resolved


class HandlerTable:
    def __init__(self, table: Mapping[str, Mapping[str, Sequence[str | Handler]]]) -> None:
        self._table = {
            consumer: {etype: tuple(_resolve(h) for h in hs) for etype, hs in by_type.items()}
            for consumer, by_type in table.items()
        }

    def consumers(self) -> list[str]:
        return sorted(self._table)

    def for_event(self, consumer: str, event_type: str) -> tuple[Handler, ...]:
        return self._table.get(consumer, {}).get(event_type, ())


@cache
def handler_table() -> HandlerTable:
    path = get_config().handlers
    return HandlerTable(import_string(path) if path else {})
