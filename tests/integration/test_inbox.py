"""``events.inbox.receive`` against the real database: effects, positions and dead letters are read back from it."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from events.conf import EventsConfig
from events.envelope import Envelope
from events.handlers import HandlerTable
from events.inbox import Outcome, receive
from events.models import ConsumerPosition, DeadLetter, InboxEntry
from monolith.reporting.models import SkuSales
from tests.integration.event_factories import body, stock_adjusted, stock_released

CONSUMER = "tests"
CONFIG = EventsConfig(max_attempts=3, gap_timeout_seconds=1.0)


class RecordingHandler:
    """Writes one SkuSales row per applied event, numbered in the order applied. While ``down`` it writes, then
    raises, as a handler whose dependency failed halfway would: the write must not survive."""

    def __init__(self) -> None:
        self.down = False

    def __call__(self, event: Envelope) -> None:
        SkuSales.objects.create(sku=f"{event.subject}#{event.sequence}", units=SkuSales.objects.count() + 1)
        if self.down:
            raise ConnectionError("reporting store unavailable")


@pytest.fixture
def handler(db: None) -> RecordingHandler:
    return RecordingHandler()


def deliver(
    handler: RecordingHandler,
    event: Envelope | str,
    *,
    attempt: int = 1,
    previous: int | None = None,
    config: EventsConfig = CONFIG,
) -> Outcome:
    table = HandlerTable({CONSUMER: {"stock.adjusted": [handler]}})
    raw = event if isinstance(event, str) else body(event)
    return receive(consumer=CONSUMER, body=raw, attempt=attempt, previous=previous, handlers=table, config=config)


def applied() -> list[str]:
    """Events whose handler effects committed, in the order they were applied."""
    return list(SkuSales.objects.order_by("units").values_list("sku", flat=True))


def position(subject: str = "A:MUG") -> ConsumerPosition:
    return ConsumerPosition.objects.get(consumer=CONSUMER, aggregate_type="stock", aggregate_id=subject)


def test_an_event_is_handled_once_and_a_redelivery_has_no_second_effect(handler: RecordingHandler) -> None:
    event = stock_adjusted(1)
    assert deliver(handler, event, previous=0) == Outcome("handled")
    assert deliver(handler, event, previous=0, attempt=2) == Outcome("duplicate")
    assert deliver(handler, event) == Outcome("duplicate")
    assert applied() == ["A:MUG#1"]
    entry = InboxEntry.objects.get()
    assert (str(entry.event_id), entry.outcome, entry.sequence) == (event.id, "handled", 1)
    assert position().last_sequence == 1


def test_aggregates_are_ordered_independently(handler: RecordingHandler) -> None:
    assert deliver(handler, stock_adjusted(1, subject="B:MUG"), previous=0).kind == "handled"
    assert deliver(handler, stock_adjusted(1), previous=0).kind == "handled"
    assert deliver(handler, stock_adjusted(2, subject="B:MUG"), previous=1).kind == "handled"
    assert applied() == ["B:MUG#1", "A:MUG#1", "B:MUG#2"]
    assert (position().last_sequence, position("B:MUG").last_sequence) == (1, 2)


def test_an_early_event_waits_until_its_predecessor_is_applied(handler: RecordingHandler) -> None:
    first, second = stock_adjusted(1), stock_adjusted(2)
    waiting = deliver(handler, second, previous=1)
    assert waiting.kind == "waiting" and waiting.retry_in is not None and waiting.retry_in > 0
    assert deliver(handler, second, previous=1, attempt=2).kind == "waiting"
    assert applied() == [] and not InboxEntry.objects.exists()
    assert position().waiting_since is not None

    assert deliver(handler, first, previous=0).kind == "handled"
    assert deliver(handler, second, previous=1, attempt=3).kind == "handled"
    assert applied() == ["A:MUG#1", "A:MUG#2"]
    assert (position().last_sequence, position().waiting_since) == (2, None)
    assert not DeadLetter.objects.exists()


def test_previous_names_the_predecessor_so_sequences_routed_elsewhere_are_not_waited_for(
    handler: RecordingHandler,
) -> None:
    assert deliver(handler, stock_adjusted(1), previous=0).kind == "handled"
    assert deliver(handler, stock_adjusted(4), previous=1).kind == "handled"  # 2 and 3 went to other consumers
    assert applied() == ["A:MUG#1", "A:MUG#4"]


def test_previous_none_means_unknown_and_applies_anything_newer(handler: RecordingHandler) -> None:
    assert deliver(handler, stock_adjusted(3), previous=None).kind == "handled"
    # Older than the position and never applied: surfaced as a late dead letter, not silently dropped.
    assert deliver(handler, stock_adjusted(2), previous=None).kind == "dead"
    assert deliver(handler, stock_adjusted(7), previous=None).kind == "handled"
    assert applied() == ["A:MUG#3", "A:MUG#7"]
    assert position().last_sequence == 7


def test_a_gap_that_never_fills_is_dead_lettered_after_the_timeout_and_the_aggregate_moves_on(
    handler: RecordingHandler,
) -> None:
    assert deliver(handler, stock_adjusted(1), previous=0).kind == "handled"
    third = stock_adjusted(3)
    assert deliver(handler, third, previous=2).kind == "waiting"
    ConsumerPosition.objects.filter(pk=position().pk).update(waiting_since=timezone.now() - timedelta(seconds=5))

    assert deliver(handler, third, previous=2, attempt=2).kind == "handled"
    assert applied() == ["A:MUG#1", "A:MUG#3"]
    gap = DeadLetter.objects.get()
    assert (gap.consumer, gap.reason, gap.aggregate_type, gap.aggregate_id) == (
        CONSUMER,
        "sequence_gap",
        "stock",
        "A:MUG",
    )
    assert "event 2 of stock/A:MUG never arrived" in gap.error
    assert (position().last_sequence, position().waiting_since) == (3, None)
    assert deliver(handler, stock_adjusted(4), previous=3).kind == "handled"


def test_an_event_arriving_after_its_gap_was_given_up_is_dead_lettered_not_dropped(
    handler: RecordingHandler,
) -> None:
    deliver(handler, stock_adjusted(1), previous=0)
    second, third = stock_adjusted(2), stock_adjusted(3)
    deliver(handler, third, previous=2)
    ConsumerPosition.objects.filter(pk=position().pk).update(waiting_since=timezone.now() - timedelta(seconds=5))
    deliver(handler, third, previous=2, attempt=2)  # the aggregate moves on past 2

    assert deliver(handler, second, previous=1).kind == "dead"

    assert applied() == ["A:MUG#1", "A:MUG#3"]
    late = DeadLetter.objects.get(reason="late")
    assert (str(late.event_id), late.sequence) == (second.id, 2)
    assert json.loads(late.body)["id"] == second.id  # the event itself, so an operator can replay it
    assert deliver(handler, third, previous=2).kind == "duplicate"  # a true redelivery is still a no-op


def test_a_gap_is_dead_lettered_once_even_when_the_next_event_needs_retries(handler: RecordingHandler) -> None:
    third = stock_adjusted(3)
    assert deliver(handler, third, previous=2).kind == "waiting"
    ConsumerPosition.objects.filter(pk=position().pk).update(waiting_since=timezone.now() - timedelta(seconds=5))
    handler.down = True
    assert deliver(handler, third, previous=2, attempt=2).kind == "retry"
    assert deliver(handler, third, previous=2, attempt=3).kind == "dead"  # CONFIG.max_attempts
    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert reasons == ["handler_failed", "sequence_gap"]


def test_a_failing_handler_is_retried_with_nothing_written(handler: RecordingHandler) -> None:
    event = stock_adjusted(1)
    handler.down = True
    retry = deliver(handler, event, previous=0)
    assert retry.kind == "retry" and retry.retry_in is not None and retry.retry_in > 0
    assert applied() == [] and not InboxEntry.objects.exists() and not DeadLetter.objects.exists()
    assert not ConsumerPosition.objects.filter(last_sequence__gt=0).exists()

    handler.down = False
    assert deliver(handler, event, previous=0, attempt=2).kind == "handled"
    assert applied() == ["A:MUG#1"]


def test_after_max_attempts_a_failing_event_is_dead_lettered_and_its_aggregate_proceeds(
    handler: RecordingHandler,
) -> None:
    event = stock_adjusted(1)
    handler.down = True
    assert [deliver(handler, event, previous=0, attempt=n).kind for n in (1, 2, 3)] == ["retry", "retry", "dead"]
    dead = DeadLetter.objects.get()
    assert (dead.reason, dead.attempts, str(dead.event_id), dead.sequence) == ("handler_failed", 3, event.id, 1)
    assert dead.error == "ConnectionError: reporting store unavailable"
    assert json.loads(dead.body) == event.to_dict()
    assert InboxEntry.objects.get().outcome == "dead"
    assert applied() == []

    handler.down = False
    assert deliver(handler, stock_adjusted(2), previous=1).kind == "handled"
    assert deliver(handler, event, previous=0, attempt=4).kind == "duplicate"
    assert applied() == ["A:MUG#2"]


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (stock_adjusted(1, delta="lots"), "stock.adjusted v1 at delta"),
        (
            replace(stock_adjusted(1), dataschema="urn:strangler:event:stock.adjusted:9"),
            "no schema for stock.adjusted v9",
        ),
    ],
    ids=["data does not match", "unknown schema version"],
)
def test_an_event_that_does_not_match_its_schema_is_dead_lettered(
    handler: RecordingHandler, event: Envelope, error: str
) -> None:
    assert deliver(handler, event, previous=0) == Outcome("dead")
    dead = DeadLetter.objects.get()
    assert (dead.reason, dead.event_type, dead.sequence) == ("schema_invalid", "stock.adjusted", 1)
    assert error in dead.error
    assert applied() == []
    assert position().last_sequence == 1
    assert deliver(handler, stock_adjusted(2), previous=1).kind == "handled"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("this is not JSON", "not JSON"),
        (json.dumps({k: v for k, v in stock_adjusted(1).to_dict().items() if k != "id"}), "missing attributes: id"),
        ("[1, 2]", "an envelope is a JSON object"),
        (json.dumps({**stock_adjusted(1).to_dict(), "sequence": 0}), "sequence must be an integer from 1"),
    ],
    ids=["not JSON", "no id", "not an object", "bad sequence"],
)
def test_a_malformed_body_is_dead_lettered_as_it_came(handler: RecordingHandler, raw: str, error: str) -> None:
    assert deliver(handler, raw, attempt=2) == Outcome("dead")
    dead = DeadLetter.objects.get()
    assert (dead.reason, dead.body, dead.event_id, dead.attempts) == ("malformed", raw, None, 2)
    assert error in dead.error
    assert applied() == [] and not ConsumerPosition.objects.exists() and not InboxEntry.objects.exists()


def test_an_event_with_no_handler_is_ignored_and_the_position_advances(handler: RecordingHandler) -> None:
    released = stock_released(1)
    assert deliver(handler, released, previous=0) == Outcome("ignored")
    assert InboxEntry.objects.get().outcome == "ignored"
    assert position().last_sequence == 1
    assert deliver(handler, released, previous=0).kind == "duplicate"
    assert deliver(handler, stock_adjusted(2), previous=1).kind == "handled"
    assert applied() == ["A:MUG#2"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_apply_each_event_once_in_order(handler: RecordingHandler) -> None:
    patient = EventsConfig(gap_timeout_seconds=60)
    deliveries = [(stock_adjusted(n), n - 1) for n in range(1, 21)] * 3  # every event delivered three times
    random.Random(7).shuffle(deliveries)
    barrier = threading.Barrier(4)

    def worker(share: list[tuple[Envelope, int]]) -> None:
        # Like a broker, a waiting event goes back on the queue; the worker moves on to the next one.
        queue, deadline = deque((event, previous, 1) for event, previous in share), time.monotonic() + 30
        barrier.wait()
        try:
            while queue:
                assert time.monotonic() < deadline, f"still waiting: {[e.sequence for e, _, _ in queue]}"
                event, previous, attempt = queue.popleft()
                if deliver(handler, event, previous=previous, attempt=attempt, config=patient).kind == "waiting":
                    queue.append((event, previous, attempt + 1))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(worker, [deliveries[i::4] for i in range(4)]))

    assert applied() == [f"A:MUG#{n}" for n in range(1, 21)]
    assert InboxEntry.objects.count() == 20 and not DeadLetter.objects.exists()
