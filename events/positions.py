"""Consumer positions: locking one, seeding it from a snapshot, and the totals replication lag is measured with.

::

    with transaction.atomic():                       # a backfill stores a snapshot record...
        before = seed_position(consumer="payment-replica", aggregate_type="payment",
                               aggregate_id=record["aggregate_id"], sequence=record["sequence"])
        if record["sequence"] > before:
            store(record)                            # ...unless the replica already applied newer events

    lag = published_total(aggregate_types=["payment"]) - applied_total(
        consumer="payment-replica", aggregate_types=["payment"])

A seeded position is also the aggregate's *baseline*: an event at or below it that the consumer never received
is already part of the snapshot, so the inbox records it as ``covered`` (no handler, no dead letter) instead of
as a ``late`` dead letter. Events above the baseline are ordered exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from events.models import AggregateSequence, ConsumerPosition

__all__ = ["applied_total", "lock_position", "published_total", "seed_position"]


def lock_position(consumer: str, aggregate_type: str, aggregate_id: str) -> ConsumerPosition:
    """Create-or-lock the aggregate's position row in one statement (the lock is held until commit)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_consumerposition (consumer, aggregate_type, aggregate_id, last_sequence, baseline) "
            "VALUES (%s, %s, %s, 0, 0) ON CONFLICT (consumer, aggregate_type, aggregate_id) "
            "DO UPDATE SET last_sequence = events_consumerposition.last_sequence "
            "RETURNING id, last_sequence, waiting_since, baseline",
            [consumer, aggregate_type, aggregate_id],
        )
        row = cursor.fetchone()
    assert row is not None
    waiting = row[2]
    if isinstance(waiting, str):  # SQLite hands raw text back from RETURNING
        waiting = ConsumerPosition._meta.get_field("waiting_since").to_python(waiting)
    if waiting is not None and timezone.is_naive(waiting):  # SQLite: naive, in the connection's time zone
        waiting = timezone.make_aware(waiting, connection.timezone)
    return ConsumerPosition(
        id=row[0], consumer=consumer, aggregate_type=aggregate_type, aggregate_id=aggregate_id,
        last_sequence=row[1], waiting_since=waiting, baseline=row[3],
    )  # fmt: skip


def seed_position(*, consumer: str, aggregate_type: str, aggregate_id: str, sequence: int) -> int:
    """Raise the position to ``max(current, sequence)`` and the baseline likewise; returns the position before.

    Runs in the caller's transaction (a savepoint of it), holding the position row's lock until that commits,
    so a delivery of the same aggregate cannot interleave with the snapshot record the caller stores. Seeding
    again with the same or a lower sequence changes nothing.
    """
    if sequence < 0:
        raise ValueError(f"sequence must be >= 0, got {sequence}")
    with transaction.atomic():
        position = lock_position(consumer, aggregate_type, aggregate_id)
        before = position.last_sequence
        changed: list[str] = []
        if sequence > position.last_sequence:
            position.last_sequence, position.waiting_since = sequence, None  # the gap it waited on is covered
            changed += ["last_sequence", "waiting_since"]
        if sequence > position.baseline:
            position.baseline = sequence
            changed.append("baseline")
        if changed:
            position.save(update_fields=changed)
    return before


def applied_total(*, consumer: str, aggregate_types: Iterable[str]) -> int:
    """The sum of ``consumer``'s positions over every aggregate of ``aggregate_types`` (seeds included)."""
    positions = ConsumerPosition.objects.filter(consumer=consumer, aggregate_type__in=list(aggregate_types))
    return int(positions.aggregate(total=Sum("last_sequence"))["total"] or 0)


def published_total(*, aggregate_types: Iterable[str]) -> int:
    """How many events were published for ``aggregate_types`` (sequences are gap-free from 1, so: their sum)."""
    sequences = AggregateSequence.objects.filter(aggregate_type__in=list(aggregate_types))
    return int(sequences.aggregate(total=Sum("last_sequence"))["total"] or 0)
