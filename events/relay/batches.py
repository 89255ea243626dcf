"""The relay's two short transactions: read a batch of pending rows, later mark it sent (or give it back). No
lock is held while the broker is being written to.

A relay reads only the partitions it owns (``events.relay.ownership``), so no row needs a claim: the owner is
the only one that may send them. Marking sent deletes the narrow ``OutboxPending`` rows; the outbox row itself is
never updated.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    event_id: str
    event_type: str
    source: str
    aggregate_type: str
    aggregate_id: str
    sequence: int
    payload: str


def _in(values: Collection[int]) -> tuple[str, list[Any]]:
    """``= ANY(%s)`` with one array parameter on PostgreSQL, ``IN (...)`` elsewhere (SQLite has no arrays)."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(values)]
    return "IN (" + ",".join(["%s"] * len(values)) + ")", list(values)


def read(*, partitions: Collection[int], limit: int) -> list[Pending]:
    """Up to ``limit`` pending rows of ``partitions``, oldest first."""
    if not partitions:
        return []
    in_sql, in_params = _in(sorted(partitions))
    # The pending ids first, then their outbox rows by primary key: a plain join lets PostgreSQL merge-join
    # from the start of the outbox, walking the whole archive of sent rows on every batch.
    pending = "SELECT id FROM events_outboxpending WHERE partition " + in_sql
    sql = (
        "SELECT o.id, o.event_id, o.event_type, o.source, o.aggregate_type, o.aggregate_id, o.sequence, o.payload "
        "FROM (" + pending + " ORDER BY id LIMIT %s) p JOIN events_outboxevent o ON o.id = p.id ORDER BY p.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*in_params, limit])
        rows = cursor.fetchall()
    return [Pending(r[0], str(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]


def mark_sent(ids: Sequence[int]) -> int:
    if not ids:
        return 0
    in_sql, in_params = _in(ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_outboxpending WHERE id " + in_sql, in_params)
        return int(cursor.rowcount)


def give_back(ids: Sequence[int], error: str) -> None:
    """Record a failed send of ``ids``; they stay pending and are sent again (in order) after a backoff."""
    if not ids:
        return
    in_sql, in_params = _in(ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_outboxpending SET attempts = attempts + 1, last_error = %s WHERE id " + in_sql,
            [error[:2000], *in_params],
        )


def backlog() -> tuple[int, float]:
    """(pending rows, age in seconds of the oldest): the relay's lag."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), MIN(id) FROM events_outboxpending")
        count, oldest_id = cursor.fetchone()
        if oldest_id is None:
            return int(count), 0.0
        cursor.execute("SELECT created_at FROM events_outboxevent WHERE id = %s", [oldest_id])
        row = cursor.fetchone()
    if row is None:  # pruned meanwhile (an operator deleted it by hand): no age to report
        return int(count), 0.0
    oldest = row[0]
    if isinstance(oldest, str):  # SQLite can return text for datetimes in raw queries
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(oldest)
        oldest = parsed.replace(tzinfo=UTC) if parsed and timezone.is_naive(parsed) else parsed
    elif timezone.is_naive(oldest):
        oldest = timezone.make_aware(oldest, UTC)
    return int(count), max((timezone.now() - oldest).total_seconds(), 0.0)
