"""For each delivery, the sequence of the aggregate's previous event routed to the same consumer.

Consumers receive only the event types their rules select, so an aggregate's sequence numbers reach them with
holes. Stamping each delivery with the previous routed sequence lets the consumer tell "early, wait" from
"nothing in between was meant for me". Only this relay sends its partitions' events, so an in-memory map is
exact while it owns them; on a miss (after a restart or a partition hand-over) the outbox archive is read back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection

LOOKBACK = 1000  # rows of one aggregate read back on a miss; beyond it the previous is unknown (None)


class PreviousSequences:
    def __init__(self, route: Callable[[dict[str, Any]], list[str]], max_entries: int = 500_000) -> None:
        self._route = route  # envelope -> consumer names
        self._last: dict[tuple[str, str, str], int] = {}
        self._max = max_entries

    def forget(self) -> None:
        self._last.clear()

    def stamp(self, consumer: str, aggregate_type: str, aggregate_id: str, sequence: int) -> int | None:
        key = (consumer, aggregate_type, aggregate_id)
        previous = self._last.get(key) if sequence > 1 else 0
        if previous is None:
            previous = self._read_back(consumer, aggregate_type, aggregate_id, sequence)
        if len(self._last) >= self._max:
            self._last.clear()
        self._last[key] = sequence
        return previous

    def _read_back(self, consumer: str, aggregate_type: str, aggregate_id: str, sequence: int) -> int | None:
        import json

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sequence, payload FROM events_outboxevent WHERE aggregate_type = %s "
                "AND aggregate_id = %s AND sequence < %s ORDER BY sequence DESC LIMIT %s",
                [aggregate_type, aggregate_id, sequence, LOOKBACK],
            )
            rows = cursor.fetchall()
        for seq, payload in rows:
            if consumer in self._route(json.loads(payload)):
                return int(seq)
        if rows and rows[-1][0] == 1:
            return 0  # read back to the aggregate's first event: none was routed here
        return None  # pruned or too far back: the consumer accepts anything newer than what it has
