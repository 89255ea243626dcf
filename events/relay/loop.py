"""The relay: moves committed outbox rows to the broker, in order, at least once.

::

    relay = Relay(config=get_config(), name="relay-1")
    relay.run()            # until stop() (SIGTERM): the batch in flight is finished first

Each loop claims a batch from the partitions this relay owns, routes each event to its consumers' queues,
publishes with no transaction open, and marks the batch sent only once the broker acknowledged all of it. A
broker failure gives the batch back and retries after an exponential backoff with jitter, in the same order.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection
from prometheus_client import Counter, Gauge

from events.conf import EventsConfig
from events.envelope import eventbridge_view
from events.relay import batches
from events.relay.ownership import Ownership, ownership_for
from events.relay.previous import PreviousSequences
from events.router import Router
from events.transports import Delivery, Transport, TransportError, open_transport

logger = logging.getLogger("events.relay")

SENT = Counter("events_relay_sent", "Outbox events published and marked sent")
DELIVERIES = Counter("events_relay_deliveries", "Messages written to consumer queues")
FAILURES = Counter("events_relay_failures", "Batches the broker did not acknowledge")
OWNED = Gauge("events_relay_partitions_owned", "Outbox partitions this relay owns")
BACKLOG = Gauge("events_relay_backlog", "Unsent outbox rows")
LAG = Gauge("events_relay_lag_seconds", "Age of the oldest unsent outbox row")


@dataclass
class RelayStats:
    sent: int = 0
    batches: int = 0
    failures: int = 0
    started: float = field(default_factory=time.monotonic)


class Relay:
    def __init__(
        self,
        *,
        config: EventsConfig,
        name: str,
        router: Router,
        transport: Transport | None = None,
        ownership: Ownership | None = None,
    ) -> None:
        # Claims and heartbeats carry a per-process identity: a relay restarted under the same name must treat
        # its killed predecessor's claims as foreign, or it would skip them and send later events first.
        self.name = f"{name}:{uuid.uuid4().hex[:8]}"
        self.config, self.router = config, router
        self.transport = transport or open_transport(config.broker_url, config.broker_options)
        self.ownership = ownership or ownership_for(self.name, config.partitions, config.relay_dead_after_seconds)
        self.stats = RelayStats()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._failures_in_row = 0
        self._next_refresh = 0.0
        self._previous = PreviousSequences(self._consumers)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def run(self, *, until_empty: bool = False) -> RelayStats:
        """Relay until stopped (or, with ``until_empty``, until nothing is left to send)."""
        idle = self.config.poll_min_seconds
        try:
            while not self._stop.is_set():
                try:
                    sent = self.step()
                except DatabaseError as exc:
                    self._database_failed(exc)
                    continue
                if sent:
                    idle = self.config.poll_min_seconds
                    continue
                if until_empty and self.ownership.owned and not self._failures_in_row:
                    break
                self._wake.wait(self._failure_delay() if self._failures_in_row else idle)
                self._wake.clear()
                idle = min(idle * 2, self.config.poll_max_seconds)
        finally:
            self.ownership.release()
            self.transport.close()
        return self.stats

    def step(self) -> int:
        """One claim → publish → mark cycle; returns how many events were sent."""
        self._refresh_ownership()
        claimed = batches.claim(
            relay=self.name, partitions=self.ownership.owned, limit=self.config.batch_size,
            claim_seconds=self.config.claim_seconds,
        )  # fmt: skip
        if not claimed:
            return 0
        ids = [row.id for row in claimed]
        try:
            deliveries = self._route(claimed)
            if deliveries:
                self.transport.send(deliveries)
        except TransportError as exc:
            self._failed(ids, str(exc))
            return 0
        batches.mark_sent(relay=self.name, ids=ids)
        self._failures_in_row = 0
        self.stats.sent += len(ids)
        self.stats.batches += 1
        SENT.inc(len(ids))
        DELIVERIES.inc(len(deliveries))
        return len(ids)

    def _consumers(self, envelope: dict[str, Any]) -> list[str]:
        return [target.name for target in self.router.targets(eventbridge_view(envelope)) if target.kind == "queue"]

    def _route(self, claimed: list[batches.Claimed]) -> list[Delivery]:
        deliveries = []
        prefix = self.config.queue_prefix
        for row in claimed:
            envelope = json.loads(row.payload)
            for consumer in self._consumers(envelope):
                previous = self._previous.stamp(consumer, envelope["aggregatetype"], envelope["subject"],
                                                envelope["sequence"])  # fmt: skip
                deliveries.append(Delivery(prefix + consumer, consumer, envelope["id"], row.payload, previous))
        return deliveries

    def _database_failed(self, exc: DatabaseError) -> None:
        # A broken connection has lost its advisory locks: own nothing until refresh() proves otherwise.
        logger.warning("database error, reconnecting: %s", exc)
        self._failures_in_row += 1
        self.ownership.owned = frozenset()
        self._previous.forget()
        self._next_refresh = 0.0
        connection.close()
        self._stop.wait(self._failure_delay())

    def _failed(self, ids: list[int], error: str) -> None:
        # The batch was stamped (previous sequences recorded) but not delivered: forget, so the retry stamps it
        # from the archive again instead of pointing each event at itself.
        self._previous.forget()
        batches.give_back(relay=self.name, ids=ids, error=error)
        self._failures_in_row += 1
        self.stats.failures += 1
        FAILURES.inc()
        logger.warning("broker did not take %d events (%s); retrying in %.2fs", len(ids), error, self._failure_delay())

    def _failure_delay(self) -> float:
        ceiling = min(self.config.backoff_max_seconds, 0.1 * 2 ** min(self._failures_in_row, 16))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter": never hammer, never all at once

    def _refresh_ownership(self) -> None:
        now = time.monotonic()
        if now < self._next_refresh:
            return
        before = self.ownership.owned
        self.ownership.refresh()
        if self.ownership.owned != before:
            self._previous.forget()  # partitions changed hands: what others sent meanwhile is unknown here
        self._next_refresh = now + self.config.heartbeat_seconds
        OWNED.set(len(self.ownership.owned))
        count, lag = batches.backlog()
        BACKLOG.set(count)
        LAG.set(lag)
