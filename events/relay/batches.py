"""The relay's two short transactions: claim a batch, later mark it sent (or give it back). No lock is held
while the broker is being written to."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.db import connection, transaction
from django.utils import timezone


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    event_type: str
    payload: str


def _in(values: Collection[int]) -> tuple[str, list[int]]:
    """``IN (...)`` for any backend (SQLite has no arrays)."""
    return "(" + ",".join(["%s"] * len(values)) + ")", list(values)


def claim(*, relay: str, partitions: Collection[int], limit: int, claim_seconds: float) -> list[Claimed]:
    """Claim up to ``limit`` unsent rows of ``partitions``, oldest first."""
    if not partitions:
        return []
    now = timezone.now()
    in_sql, in_params = _in(sorted(partitions))
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        "UPDATE events_outboxevent SET claimed_by = %s, claimed_until = %s WHERE id IN ("
        "SELECT id FROM events_outboxevent WHERE sent_at IS NULL AND partition IN " + in_sql + " "
        "AND (claimed_until IS NULL OR claimed_until < %s) ORDER BY id LIMIT %s" + lock + ") "
        "RETURNING id, event_type, payload"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [relay, now + timedelta(seconds=claim_seconds), *in_params, now, limit])
        rows = cursor.fetchall()
    rows.sort()  # RETURNING gives no order; sending must follow id order
    return [Claimed(r[0], r[1], r[2]) for r in rows]


def mark_sent(*, relay: str, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    in_sql, in_params = _in(ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_outboxevent SET sent_at = %s, claimed_until = NULL, attempts = attempts + 1 "
            "WHERE id IN " + in_sql + " AND claimed_by = %s",
            [timezone.now(), *in_params, relay],
        )
        return int(cursor.rowcount)


def give_back(*, relay: str, ids: Sequence[int], error: str) -> None:
    """Return a batch the broker did not take, so it is sent again (in order) after a backoff."""
    if not ids:
        return
    in_sql, in_params = _in(ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_outboxevent SET claimed_by = '', claimed_until = NULL, attempts = attempts + 1, "
            "last_error = %s WHERE id IN " + in_sql + " AND claimed_by = %s",
            [error[:2000], *in_params, relay],
        )


def backlog() -> tuple[int, float]:
    """(unsent rows, age in seconds of the oldest): the relay's lag."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), MIN(created_at) FROM events_outboxevent WHERE sent_at IS NULL")
        count, oldest = cursor.fetchone()
    if oldest is None:
        return int(count), 0.0
    if isinstance(oldest, str):  # SQLite returns text for aggregates over datetimes
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(oldest)
        oldest = parsed.replace(tzinfo=UTC) if parsed and timezone.is_naive(parsed) else parsed
    return int(count), max((timezone.now() - oldest).total_seconds(), 0.0)
