"""Seeding a consumer's positions from a snapshot: older events are covered by it, newer ones apply in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events.conf import EventsConfig
from events.envelope import Envelope
from events.handlers import HandlerTable
from events.inbox import Outcome, receive
from events.models import ConsumerPosition, DeadLetter, InboxEntry
from events.outbox import publish
from events.positions import applied_total, published_total, seed_position
from monolith.reporting.models import SkuSales
from tests.integration.event_factories import body, stock_adjusted

CONSUMER = "replica"
CONFIG = EventsConfig(max_attempts=3, gap_timeout_seconds=1.0)

pytestmark = pytest.mark.django_db


def handle(event: Envelope) -> None:
    SkuSales.objects.create(sku=f"{event.subject}#{event.sequence}", units=SkuSales.objects.count() + 1)


def deliver(event: Envelope, *, previous: int | None) -> Outcome:
    table = HandlerTable({CONSUMER: {"stock.adjusted": [handle]}})
    return receive(consumer=CONSUMER, body=body(event), previous=previous, handlers=table, config=CONFIG)


def applied() -> list[str]:
    return list(SkuSales.objects.order_by("units").values_list("sku", flat=True))


def seed(sequence: int, subject: str = "A:MUG") -> int:
    with transaction.atomic():
        return seed_position(consumer=CONSUMER, aggregate_type="stock", aggregate_id=subject, sequence=sequence)


def position(subject: str = "A:MUG") -> ConsumerPosition:
    return ConsumerPosition.objects.get(consumer=CONSUMER, aggregate_type="stock", aggregate_id=subject)


def test_events_in_the_snapshot_are_covered_without_dead_letters_and_the_next_one_applies() -> None:
    assert seed(5) == 0

    for sequence in (3, 4, 5):
        assert deliver(stock_adjusted(sequence), previous=sequence - 1) == Outcome("covered")
    sixth = deliver(stock_adjusted(6), previous=5)

    assert sixth == Outcome("handled")
    assert applied() == ["A:MUG#6"]  # no handler ran for the covered ones
    assert not DeadLetter.objects.exists()
    outcomes = dict(InboxEntry.objects.values_list("sequence", "outcome"))
    assert outcomes == {3: "covered", 4: "covered", 5: "covered", 6: "handled"}
    assert (position().last_sequence, position().baseline) == (6, 5)


def test_a_covered_event_delivered_again_is_a_duplicate() -> None:
    seed(2)
    second = stock_adjusted(2)
    assert deliver(second, previous=1).kind == "covered"
    assert deliver(second, previous=1).kind == "duplicate"
    assert InboxEntry.objects.get().outcome == "covered"


def test_seeding_is_idempotent_and_never_moves_a_position_back() -> None:
    assert seed(4) == 0
    assert seed(4) == 4
    assert seed(2) == 4
    assert (position().last_sequence, position().baseline) == (4, 4)

    assert deliver(stock_adjusted(5), previous=4).kind == "handled"
    assert deliver(stock_adjusted(6), previous=5).kind == "handled"
    assert seed(5) == 6  # a snapshot older than what was applied: the position stays, the baseline rises
    assert (position().last_sequence, position().baseline) == (6, 5)


def test_events_above_the_baseline_are_ordered_as_before() -> None:
    seed(2)
    fourth, third = stock_adjusted(4), stock_adjusted(3)

    assert deliver(fourth, previous=3).kind == "waiting"  # early: 3 is not in the snapshot
    assert deliver(third, previous=2).kind == "handled"
    assert deliver(fourth, previous=3).kind == "handled"
    assert applied() == ["A:MUG#3", "A:MUG#4"]
    assert not DeadLetter.objects.exists()


def test_a_late_event_above_the_baseline_is_still_a_late_dead_letter() -> None:
    seed(2)
    assert deliver(stock_adjusted(5), previous=None).kind == "handled"  # unknown predecessor: applies

    assert deliver(stock_adjusted(4), previous=3).kind == "dead"  # never received, not in the snapshot
    assert deliver(stock_adjusted(1), previous=0).kind == "covered"  # in the snapshot
    assert list(DeadLetter.objects.values_list("reason", "sequence")) == [("late", 4)]
    assert applied() == ["A:MUG#5"]


def test_seeding_past_a_gap_ends_the_wait() -> None:
    assert deliver(stock_adjusted(4), previous=3).kind == "waiting"
    ConsumerPosition.objects.filter(pk=position().pk).update(waiting_since=timezone.now() - timedelta(seconds=30))

    seed(3)

    assert position().waiting_since is None
    assert deliver(stock_adjusted(4), previous=3).kind == "handled"
    assert not DeadLetter.objects.exists()  # the gap was filled by the snapshot, not given up on


def test_seeding_rejects_a_negative_sequence() -> None:
    with pytest.raises(ValueError, match="sequence must be >= 0"):
        seed(-1)
    assert not ConsumerPosition.objects.exists()


def test_applied_and_published_totals_count_per_aggregate_type() -> None:
    with transaction.atomic():
        for subject, count in (("A:MUG", 3), ("B:MUG", 2)):
            for _ in range(count):
                data = {"warehouse": "A", "sku": "MUG", "delta": 1, "reason": "count", "levels": []}
                publish(type="stock.adjusted", source="tests", aggregate_type="stock", aggregate_id=subject, data=data)
    seed(3, "A:MUG")
    seed(1, "B:MUG")
    seed(9, "other")
    with transaction.atomic():
        seed_position(consumer="someone-else", aggregate_type="stock", aggregate_id="B:MUG", sequence=2)

    assert published_total(aggregate_types=["stock"]) == 5
    assert published_total(aggregate_types=["payment"]) == 0
    assert applied_total(consumer=CONSUMER, aggregate_types=["stock"]) == 3 + 1 + 9
    assert applied_total(consumer=CONSUMER, aggregate_types=["stock", "payment"]) == 13
    assert applied_total(consumer="nobody", aggregate_types=["stock"]) == 0


def test_a_covered_event_runs_only_the_consumers_covered_handlers() -> None:
    seed(3)
    covered_seen: list[int] = []
    table = HandlerTable(
        {CONSUMER: {"stock.adjusted": [handle], "covered:stock.adjusted": [lambda e: covered_seen.append(e.sequence)]}}
    )
    outcome = receive(consumer=CONSUMER, body=body(stock_adjusted(3)), previous=2, handlers=table, config=CONFIG)
    assert outcome == Outcome("covered")
    assert covered_seen == [3] and applied() == []  # the ordinary handler did not run


def test_a_failing_covered_handler_is_retried_then_dead_lettered_and_the_event_still_covered() -> None:
    seed(3)

    def broken(event: Envelope) -> None:
        SkuSales.objects.create(sku="half-written", units=1)  # undone with the failure
        raise RuntimeError("levels store down")

    table = HandlerTable({CONSUMER: {"covered:stock.adjusted": [broken]}})
    event = stock_adjusted(3)
    first = receive(consumer=CONSUMER, body=body(event), previous=2, handlers=table, config=CONFIG, attempt=1)
    assert first.kind == "retry" and not InboxEntry.objects.exists()
    last = receive(consumer=CONSUMER, body=body(event), previous=2, handlers=table, config=CONFIG, attempt=3)
    assert last == Outcome("covered")
    assert DeadLetter.objects.get().reason == DeadLetter.Reason.HANDLER_FAILED
    assert not SkuSales.objects.exists()
