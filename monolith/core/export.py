"""Keyset pages of a capability's records for a backfill, each with its aggregate's last published sequence.

::

    page = export_page(
        Payment.objects.all(), after=None, limit=500, aggregate_type="payment", id_fields=("pk",),
        aggregate_id=str, document=published.snapshot,
    )
    page.records    # [{...the document..., "aggregate_type": "payment", "aggregate_id": "...", "sequence": 3}]
    page.last_key   # the primary key to continue after, or None on the last page

A page is read in one transaction, the sequences *before* the records: a record is then at least as new as the
sequence it carries, never older, so a consumer seeded with that sequence skips no event the record lacks (a
newer record is harmless: events carry whole state). On SQLite the transaction runs alone, so both agree exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction

from events.models import AggregateSequence

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class ExportPage:
    records: list[dict[str, Any]]
    last_key: int | str | None  # primary key of the last record when another page may follow


def export_page(
    queryset: models.QuerySet[M],
    *,
    after: int | uuid.UUID | None,
    limit: int,
    aggregate_type: str,
    id_fields: tuple[str, ...],
    aggregate_id: Callable[..., str],
    document: Callable[[M], dict[str, Any]],
) -> ExportPage:
    """Up to ``limit`` records after primary key ``after``, in primary-key order.

    ``aggregate_id(*values)`` builds the event aggregate id from the (immutable) ``id_fields`` of a row.
    """
    with transaction.atomic():
        keys = queryset.order_by("pk")
        if after is not None:
            keys = keys.filter(pk__gt=after)
        head = list(keys.values_list("pk", *id_fields)[: limit + 1])
        more, head = len(head) > limit, head[:limit]
        ids = {row[0]: aggregate_id(*row[1:]) for row in head}
        sequences = dict(
            AggregateSequence.objects.filter(aggregate_type=aggregate_type, aggregate_id__in=list(ids.values()))
            .values_list("aggregate_id", "last_sequence")
        )  # fmt: skip
        rows = queryset.filter(pk__in=list(ids)).order_by("pk")
        records = [
            {**document(row), "aggregate_type": aggregate_type, "aggregate_id": ids[row.pk],
             "sequence": sequences.get(ids[row.pk], 0)}
            for row in rows
        ]  # fmt: skip
    last = head[-1][0] if more else None
    return ExportPage(records=records, last_key=str(last) if isinstance(last, uuid.UUID) else last)
