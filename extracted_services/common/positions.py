"""The replica consumer's positions, as the services use them: seeded by the backfill, summed for replication
status. The backbone implements them (``events.positions``); this module is the services' one import of it.

A seeded position is also the aggregate's baseline: an event at or below it that arrives later is recorded by
the inbox as ``covered`` (it is in the snapshot), with no handler run and no dead letter.
"""

from __future__ import annotations

from events.models import ConsumerPosition
from events.positions import applied_total, seed_position

__all__ = ["applied_total", "position_of", "seed_position"]


def position_of(*, consumer: str, aggregate_type: str, aggregate_id: str) -> int:
    """The last sequence ``consumer`` applied (or was seeded with) for the aggregate; 0 when none."""
    row = ConsumerPosition.objects.filter(
        consumer=consumer, aggregate_type=aggregate_type, aggregate_id=aggregate_id
    ).first()
    return row.last_sequence if row is not None else 0
