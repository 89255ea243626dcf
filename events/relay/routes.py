"""Where an outbox row goes, decided once per (source, type) when the rules allow it.

Most rules select on ``source`` and ``detail-type`` only; their answer is the same for every event of a type, so
it is computed once and cached, and the relay never parses the payload. As soon as one rule looks further
(``detail``, ``time``, ``resources``, ``$or``, …) every event is matched against its full EventBridge view.
"""

from __future__ import annotations

import json
from typing import Any

from events.aws.names import sqs_queue_name
from events.envelope import eventbridge_view
from events.router import Router, Target


def consumer_key(target: Target) -> str | None:
    """Whose order a target's deliveries follow: the consumer a queue or SQS queue feeds (None for a bus)."""
    if target.kind == "queue":
        return target.name
    if target.kind == "sqs":
        return sqs_queue_name(target.name)
    return None


HEADER_KEYS = frozenset({"version", "source", "detail-type", "account", "region"})


class Routes:
    def __init__(self, router: Router) -> None:
        self.router = router
        self.by_header = all(set(rule.pattern) <= HEADER_KEYS for rule in router.rules)
        self._cache: dict[tuple[str, str], tuple[Target, ...]] = {}

    def targets(self, source: str, event_type: str, payload: str) -> tuple[Target, ...]:
        """The targets of an outbox row (``payload`` is parsed only when a rule needs more than the type)."""
        if not self.by_header:
            return tuple(self.router.targets(eventbridge_view(json.loads(payload))))
        return self._by_type(source, event_type)

    def consumers(self, envelope: dict[str, Any]) -> list[str]:
        """The consumers an envelope (as parsed JSON) reaches: ``queue:`` names and ``sqs:`` queue names."""
        if self.by_header:
            found = self._by_type(envelope["source"], envelope["type"])
        else:
            found = tuple(self.router.targets(eventbridge_view(envelope)))
        return [key for key in map(consumer_key, found) if key is not None]

    def _by_type(self, source: str, event_type: str) -> tuple[Target, ...]:
        key = (source, event_type)
        found = self._cache.get(key)
        if found is None:
            view = {"version": "0", "source": source, "detail-type": event_type, "account": "", "region": ""}
            found = self._cache[key] = tuple(self.router.targets(view))
        return found
