from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections, transaction

from events.catalogue import SchemaViolation
from events.envelope import Envelope
from events.models import OutboxEvent, OutboxPending
from events.outbox import OutsideTransaction, partition_of, publish


def adjusted(delta: int = 1) -> dict[str, Any]:
    return {"warehouse": "A", "sku": "MUG", "delta": delta, "reason": "count", "levels": []}


def emit(aggregate_id: str = "A:MUG", **data: Any) -> Envelope:
    return publish(
        type="stock.adjusted", source="tests", aggregate_type="stock", aggregate_id=aggregate_id,
        data={**adjusted(), **data},
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_raises_and_writes_nothing() -> None:
    with pytest.raises(OutsideTransaction):
        emit()
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_event_exists_only_if_the_change_commits() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        emit()
        raise RuntimeError("business change failed")
    assert OutboxEvent.objects.count() == 0
    with transaction.atomic():
        envelope = emit()
    row = OutboxEvent.objects.get()
    assert Envelope.from_json(row.payload) == envelope
    assert (row.sequence, row.partition, row.source) == (1, partition_of("stock", "A:MUG"), "tests")
    assert OutboxPending.objects.get(id=row.id).partition == row.partition  # pending until a relay sends it


@pytest.mark.django_db(transaction=True)
def test_rolled_back_events_leave_no_gap_in_the_sequence() -> None:
    with transaction.atomic():
        emit()
    with pytest.raises(RuntimeError), transaction.atomic():
        emit()
        raise RuntimeError
    with transaction.atomic():
        emit()
        emit(aggregate_id="B:MUG")
    assert list(OutboxEvent.objects.filter(aggregate_id="A:MUG").values_list("sequence", flat=True)) == [1, 2]
    assert OutboxEvent.objects.get(aggregate_id="B:MUG").sequence == 1


@pytest.mark.django_db
def test_invalid_data_is_refused_at_the_producer() -> None:
    with pytest.raises(SchemaViolation, match="delta"):
        emit(delta="lots")
    assert OutboxEvent.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_publishers_get_gap_free_unique_sequences() -> None:
    aggregate = str(uuid.uuid4())
    barrier = threading.Barrier(8)

    def worker(_: int) -> None:
        barrier.wait()
        try:
            for _ in range(10):
                with transaction.atomic():
                    emit(aggregate_id=aggregate)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))

    rows = list(OutboxEvent.objects.filter(aggregate_id=aggregate).order_by("id"))
    assert [r.sequence for r in rows] == list(range(1, 81))  # gap-free, and id order is sequence order
