"""Event numbering that continues across ownership: a service's first event for a record it copied from the
monolith is numbered after the monolith's last one.

::

    continue_numbering(aggregate_type="stock", aggregate_id="BER-1:MUG", sequence=7)
    # the service's next event for stock BER-1:MUG (once it owns it) has sequence 8, not 1

Consumers keep their positions per aggregate, not per source; a consumer that followed the record's monolith
events would otherwise drop the service's first events as duplicates. Call it wherever a service stores a
replicated record (replica handler, backfill), in the same transaction, after locking the record's rows: a
service's own writes take those rows first and the sequence row last, so the order is the same (no deadlock).
"""

from __future__ import annotations

from django.db import connections

__all__ = ["continue_numbering"]


def continue_numbering(*, aggregate_type: str, aggregate_id: str, sequence: int, using: str = "default") -> None:
    """Raise this database's last sequence of the aggregate to ``sequence``; never lower it."""
    if sequence < 1:
        return  # the monolith never published for it: numbering starts at 1 anyway
    with connections[using].cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_aggregatesequence (aggregate_type, aggregate_id, last_sequence) VALUES (%s, %s, %s) "
            "ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET last_sequence = CASE "
            "WHEN events_aggregatesequence.last_sequence < excluded.last_sequence "
            "THEN excluded.last_sequence ELSE events_aggregatesequence.last_sequence END",
            [aggregate_type, aggregate_id, sequence],
        )
