"""The relay: moves committed outbox rows to the broker, in order, at least once.

::

    relay = Relay(config=get_config(), name="relay-1")
    relay.run()            # until stop() (SIGTERM): the batch in flight is finished first

Each loop reads a batch of pending rows from the partitions this relay owns (owning a partition is what entitles
it to send them: no per-row claim), routes each event to its consumers' queues, publishes with no transaction
open, and marks the batch sent only once the broker acknowledged all of it. A broker failure leaves the batch
pending and retries it after an exponential backoff with jitter, in the same order.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from prometheus_client import Counter, Gauge

from events.aws.targets import AwsDelivery, AwsTargets
from events.conf import EventsConfig
from events.relay import batches
from events.relay.ownership import Ownership, ownership_for
from events.relay.previous import PreviousSequences
from events.relay.routes import Routes, consumer_key
from events.router import Router
from events.transports import Delivery, Transport, TransportError, open_transport

logger = logging.getLogger("events.relay")

SENT = Counter("events_relay_sent", "Outbox events published and marked sent")
DELIVERIES = Counter("events_relay_deliveries", "Messages written to consumer queues")
FAILURES = Counter("events_relay_failures", "Batches the broker did not acknowledge")
OWNED = Gauge("events_relay_partitions_owned", "Outbox partitions this relay owns")
BACKLOG = Gauge("events_relay_backlog", "Unsent outbox rows")
LAG = Gauge("events_relay_lag_seconds", "Age of the oldest unsent outbox row")


@dataclass(frozen=True, slots=True)
class _Batch:
    ids: list[int]
    deliveries: list[Delivery]  # to consumers' queues on the broker
    aws: list[AwsDelivery]  # to SQS queues and EventBridge buses


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
        # Heartbeats and ownership carry a per-process identity: a relay restarted under the same name is a new
        # member, never mistaken for its killed predecessor.
        self.name = f"{name}:{uuid.uuid4().hex[:8]}"
        self.config, self.router = config, router
        self.routes = Routes(router)
        self.transport = transport or open_transport(config.broker_url, config.broker_options)
        self.ownership = ownership or ownership_for(self.name, config.partitions, config.relay_dead_after_seconds)
        self.stats = RelayStats()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._failures_in_row = 0
        self._next_refresh = 0.0
        self._previous = PreviousSequences(self.routes.consumers)
        self._aws: AwsTargets | None = None
        self.wakeup_live = False  # set by the wake-up listener while it is subscribed: poll rarely then

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def set_wakeup_live(self, live: bool) -> None:
        self.wakeup_live = live

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
                ceiling = self.config.wakeup_poll_seconds if self.wakeup_live else self.config.poll_max_seconds
                idle = min(idle * 2, ceiling)
        finally:
            self.ownership.release()
            self.transport.close()
            if self._aws is not None:
                self._aws.close()
        return self.stats

    def step(self) -> int:
        """One read → publish → mark cycle; returns how many events were sent. SIGTERM waits for it to end."""
        self._refresh_ownership()
        batch = self._prepare()
        if batch is None:
            return 0
        try:
            self._deliver(batch)
        except TransportError as exc:
            self._failed(batch.ids, str(exc))
            return 0
        return self._succeeded(batch)

    def _prepare(self) -> _Batch | None:
        rows = batches.read(partitions=self.ownership.owned, limit=self.config.batch_size)
        return self._route(rows) if rows else None

    def _deliver(self, batch: _Batch) -> None:
        """Publish, then mark sent: only once every broker acknowledged the whole batch."""
        if batch.deliveries:
            self.transport.send(batch.deliveries)
        if batch.aws:
            self._aws_targets().send(batch.aws)
        batches.mark_sent(batch.ids)

    def _aws_targets(self) -> AwsTargets:
        if self._aws is None:
            self._aws = AwsTargets()
        return self._aws

    def _succeeded(self, batch: _Batch) -> int:
        self._failures_in_row = 0
        self.stats.sent += len(batch.ids)
        self.stats.batches += 1
        SENT.inc(len(batch.ids))
        DELIVERIES.inc(len(batch.deliveries))
        return len(batch.ids)

    def _route(self, rows: list[batches.Pending]) -> _Batch:
        deliveries: list[Delivery] = []
        aws: list[AwsDelivery] = []
        prefix, stamp, bus = self.config.queue_prefix, self._previous.stamp, self.config.eventbridge_bus
        for row in rows:
            on_bus: dict[str, int | None] = {}
            for target in self.routes.targets(row.source, row.event_type, row.payload):
                consumer = consumer_key(target)
                if consumer is None:  # an EventBridge bus named in the rules: forwarded as it is
                    aws.append(AwsDelivery("eventbridge", target.name, row.payload, {}))
                    continue
                previous = stamp(consumer, row.aggregate_type, row.aggregate_id, row.sequence)
                if bus:
                    on_bus[consumer] = previous
                elif target.kind == "queue":
                    deliveries.append(Delivery(prefix + consumer, consumer, row.event_id, row.payload, previous))
                else:
                    aws.append(AwsDelivery("sqs", target.name, row.payload, {consumer: previous}))
            if on_bus and bus:
                aws.append(AwsDelivery("eventbridge", bus, row.payload, on_bus))
        return _Batch([row.id for row in rows], deliveries, aws)

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
        batches.give_back(ids, error)
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
