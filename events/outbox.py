"""``publish``: write an event into the outbox inside the caller's transaction.

::

    with transaction.atomic():
        order = Order.objects.create(...)
        publish(type="order.placed", source="monolith/orders", aggregate_type="order",
                aggregate_id=str(order.id), data={...})

The event exists exactly when the business change commits. Outside a transaction ``publish`` raises, and data
that does not match the catalogue schema raises ``SchemaViolation`` before anything is written.
"""

from __future__ import annotations

import zlib
from typing import Any

from django.db import connections, transaction

from events.catalogue import Catalogue
from events.envelope import Envelope
from events.models import OutboxEvent, OutboxPending

PARTITIONS = 16

__all__ = ["PARTITIONS", "OutsideTransaction", "partition_of", "publish"]


class OutsideTransaction(RuntimeError):
    """``publish`` was called with no transaction open: the event could outlive (or miss) its change."""


def partition_of(aggregate_type: str, aggregate_id: str, partitions: int = PARTITIONS) -> int:
    # crc32, not hash(): stable across processes and Python versions.
    return zlib.crc32(f"{aggregate_type}:{aggregate_id}".encode()) % partitions


def _next_sequence(using: str, aggregate_type: str, aggregate_id: str) -> int:
    # One statement: insert or increment, returning the new value. The row lock it takes is held until commit, so
    # concurrent publishers on one aggregate queue here and a rolled-back transaction leaves no gap.
    with connections[using].cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_aggregatesequence (aggregate_type, aggregate_id, last_sequence) VALUES (%s, %s, 1) "
            "ON CONFLICT (aggregate_type, aggregate_id) "
            "DO UPDATE SET last_sequence = events_aggregatesequence.last_sequence + 1 RETURNING last_sequence",
            [aggregate_type, aggregate_id],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def publish(
    *,
    type: str,
    source: str,
    aggregate_type: str,
    aggregate_id: str,
    data: Any,
    version: int | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    using: str = "default",
    catalogue: Catalogue | None = None,
) -> Envelope:
    """Validate ``data`` against the catalogue and add the event to the outbox in the open transaction."""
    if not connections[using].in_atomic_block:
        raise OutsideTransaction(f"publish({type!r}) needs an open transaction (wrap the change in atomic())")
    catalogue = catalogue or Catalogue.default()
    version = version or catalogue.latest(type)
    catalogue.validate(type, version, data)
    sequence = _next_sequence(using, aggregate_type, aggregate_id)
    envelope = Envelope.new(
        type=type, source=source, subject=aggregate_id, data=data, dataschema=catalogue.uri(type, version),
        aggregatetype=aggregate_type, sequence=sequence, correlationid=correlation_id, causationid=causation_id,
    )  # fmt: skip
    partition = partition_of(aggregate_type, aggregate_id)
    row = OutboxEvent.objects.using(using).create(
        event_id=envelope.id, event_type=type, source=source, aggregate_type=aggregate_type,
        aggregate_id=aggregate_id, sequence=sequence, partition=partition, payload=envelope.to_json().decode(),
    )  # fmt: skip
    OutboxPending.objects.using(using).create(id=row.id, partition=partition)
    transaction.on_commit(_wake_relays, using=using)
    return envelope


def _wake_relays() -> None:
    from events.wakeup import notify_relays

    notify_relays()
