"""Re-delivering a range of the outbox archive to one consumer, to rebuild or backfill its data.

::

    selection = ReplayRange(types=("order.confirmed",), since=datetime(2025, 1, 1, tzinfo=UTC))
    selection.check(Catalogue.default())                       # ReplayError: unknown type, since after until
    transport = open_transport(config.broker_url, config.broker_options)
    stats = replay(selection, consumer="reporting", queue="reporting", transport=transport, batch_size=1000)

Events go out in (aggregate, sequence) order, each stamped with the sequence of the previous replayed event of
its aggregate (``None`` for the first: the consumer takes anything newer than what it has), so the consumer's
inbox applies them in order. The inbox drops every event at or below its position for the aggregate, so a rerun
is safe and only a consumer that is new (or behind) receives anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.db.models import QuerySet

from events.catalogue import Catalogue
from events.models import OutboxEvent
from events.transports import Delivery, Transport

__all__ = [
    "ReplayError",
    "ReplayRange",
    "ReplayStats",
    "archived_events",
    "check_consumer",
    "deliveries",
    "replay",
]

_CONSUMER = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # it names a queue: the router's rule for queue names

Row = tuple[object, str, str, int, str]  # event_id, aggregate_type, aggregate_id, sequence, payload


class ReplayError(ValueError):
    """The replay was asked for something impossible; the message names the filter and the problem."""


@dataclass(frozen=True, kw_only=True)
class ReplayRange:
    """Which archived events to replay: every filter given must match (``since`` inclusive, ``until`` not)."""

    types: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    subject: str | None = None
    aggregate_type: str | None = None

    def check(self, catalogue: Catalogue) -> None:
        """Raise ``ReplayError`` for a filter that can match nothing by mistake (a typo, an empty range)."""
        known = set(catalogue.types())
        for event_type in self.types:
            if event_type not in known:
                raise ReplayError(f"--type {event_type!r} is not in the event catalogue")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ReplayError(f"--since {self.since.isoformat()} is not before --until {self.until.isoformat()}")
        for name, value in (("--subject", self.subject), ("--aggregate-type", self.aggregate_type)):
            if value is not None and not value:
                raise ReplayError(f"{name} must not be empty")


@dataclass
class ReplayStats:
    events: int = 0
    aggregates: int = 0
    batches: int = 0


def check_consumer(consumer: str) -> None:
    """A consumer's name is also its queue's: letters, digits, '.', '_' and '-'."""
    if not _CONSUMER.match(consumer):
        raise ReplayError(f"--consumer {consumer!r} may hold only letters, digits, '.', '_' and '-' (1-64)")


def archived_events(selection: ReplayRange) -> QuerySet[OutboxEvent]:
    """The archived (sent or not) events in ``selection``, in (aggregate, sequence) order."""
    events = OutboxEvent.objects.all()
    if selection.types:
        events = events.filter(event_type__in=selection.types)
    if selection.since is not None:
        events = events.filter(created_at__gte=selection.since)
    if selection.until is not None:
        events = events.filter(created_at__lt=selection.until)
    if selection.subject is not None:
        events = events.filter(aggregate_id=selection.subject)
    if selection.aggregate_type is not None:
        events = events.filter(aggregate_type=selection.aggregate_type)
    return events.order_by("aggregate_type", "aggregate_id", "sequence")


def deliveries(rows: Iterable[Row], *, consumer: str, queue: str) -> Iterator[Delivery]:
    """One delivery per row (rows in aggregate, sequence order), ``previous`` chained within each aggregate."""
    last_aggregate: tuple[str, str] | None = None
    last_sequence: int | None = None
    for event_id, aggregate_type, aggregate_id, sequence, payload in rows:
        aggregate = (aggregate_type, aggregate_id)
        previous = last_sequence if aggregate == last_aggregate else None
        yield Delivery(queue=queue, consumer=consumer, event_id=str(event_id), envelope=payload, previous=previous)
        last_aggregate, last_sequence = aggregate, sequence


def replay(
    selection: ReplayRange,
    *,
    consumer: str,
    queue: str,
    transport: Transport,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> ReplayStats:
    """Send the selection to ``queue`` in batches; ``TransportError`` from the broker propagates (a rerun is safe:
    the consumer's inbox drops what it already processed)."""
    stats = ReplayStats()
    fields = ("event_id", "aggregate_type", "aggregate_id", "sequence", "payload")
    rows: Iterator[Row] = archived_events(selection).values_list(*fields).iterator(chunk_size=batch_size)
    stream = deliveries(rows, consumer=consumer, queue=queue)
    while batch := list(islice(stream, batch_size)):
        transport.send(batch)
        stats.events += len(batch)
        stats.aggregates += sum(1 for d in batch if d.previous is None)
        stats.batches += 1
        if on_batch is not None:
            on_batch(len(batch))
    return stats
