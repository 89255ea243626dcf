"""The relay against a real database and a real Redis broker."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from events.models import OutboxEvent, OutboxPending, RelayProcess
from tests.e2e.processes import free_port
from tests.integration.relay_support import adjust, frames, make_relay, order_event

pytestmark = pytest.mark.django_db(transaction=True)


def test_committed_events_reach_their_consumers_queue_in_order_and_are_marked_sent(queue_prefix: str) -> None:
    sent = [adjust("A:MUG", delta=i) for i in range(1, 6)]

    stats = make_relay(queue_prefix).run(until_empty=True)

    assert stats.sent == 5
    received = frames(queue_prefix, "ledger")
    assert [envelope["id"] for _, envelope, _ in received] == [e.id for e in sent]
    assert [previous for _, _, previous in received] == [0, 1, 2, 3, 4]
    assert {consumer for consumer, _, _ in received} == {"ledger"}
    assert not OutboxPending.objects.exists()
    assert OutboxEvent.objects.count() == 5  # the archive stays
    assert frames(queue_prefix, "reporting") == []


def test_events_no_rule_selects_are_marked_sent_without_deliveries(queue_prefix: str) -> None:
    order_event(str(uuid.uuid4()), "order.placed")
    assert make_relay(queue_prefix).run(until_empty=True).sent == 1
    assert frames(queue_prefix, "reporting") == [] and frames(queue_prefix, "ledger") == []


def test_consumer_of_some_types_gets_the_previous_routed_sequence(queue_prefix: str) -> None:
    order = str(uuid.uuid4())
    for event_type in ("order.placed", "order.confirmed", "order.cancelled"):
        order_event(order, event_type)
    make_relay(queue_prefix).run(until_empty=True)
    # A fresh relay knows nothing in memory: it reads the archive back to find the previous routed event.
    order_event(order, "order.confirmed")  # sequence 4 (not a real flow: only the numbers matter here)
    make_relay(queue_prefix, name="relay-b").run(until_empty=True)

    received = [(env["sequence"], previous) for _, env, previous in frames(queue_prefix, "reporting")]
    assert received == [(2, 0), (3, 2), (4, 3)]


def test_broker_outage_gives_the_batch_back_and_it_is_resent_in_order(queue_prefix: str) -> None:
    sent = [adjust("A:MUG") for _ in range(3)]
    down = make_relay(queue_prefix, broker_url=f"redis://127.0.0.1:{free_port()}/0")

    assert down.step() == 0

    rows = list(OutboxPending.objects.order_by("id"))
    assert len(rows) == 3 and all(r.attempts == 1 for r in rows)
    assert "redis" in rows[0].last_error.lower()
    down.ownership.release()
    make_relay(queue_prefix, name="relay-b").run(until_empty=True)
    assert [env["id"] for _, env, _ in frames(queue_prefix, "ledger")] == [e.id for e in sent]


def test_after_a_failed_send_the_same_relay_stamps_the_retry_correctly(queue_prefix: str) -> None:
    from events.transports import open_transport

    adjust("A:MUG")
    adjust("A:MUG")
    relay = make_relay(queue_prefix)
    assert relay.step() == 2  # events 1 and 2 delivered: the relay remembers 2
    adjust("A:MUG")
    adjust("A:MUG")
    good = relay.transport
    relay.transport = open_transport(f"redis://127.0.0.1:{free_port()}/0")
    assert relay.step() == 0  # events 3 and 4 stamped, then refused by the broker
    relay.transport = good
    relay._failures_in_row = 0

    relay.run(until_empty=True)

    assert [(env["sequence"], previous) for _, env, previous in frames(queue_prefix, "ledger")] == [
        (1, 0),
        (2, 1),
        (3, 2),
        (4, 3),
    ]


def test_a_relay_killed_between_publishing_and_marking_is_followed_by_a_full_resend_in_order(
    queue_prefix: str,
) -> None:
    from events.relay import batches

    sent = [adjust("A:MUG") for _ in range(6)]
    dead = make_relay(queue_prefix, name="relay-a", batch_size=3)
    dead.ownership.refresh()
    first = dead._prepare()
    assert first is not None
    dead.transport.send(first.deliveries)  # published, then SIGKILL before batches.mark_sent
    connections["default"].close()  # its session ends: advisory locks go, the rows are still pending
    assert batches.backlog()[0] == 6

    make_relay(queue_prefix, name="relay-a").run(until_empty=True)

    # At least once: the unmarked three again (the consumer's inbox drops them), then the rest, all in order.
    assert [env["id"] for _, env, _ in frames(queue_prefix, "ledger")] == [e.id for e in sent[:3] + sent]
    assert batches.backlog() == (0, 0.0)


def test_a_stopped_relay_leaves_no_heartbeat_or_pending_rows(queue_prefix: str) -> None:
    adjust("A:MUG")
    make_relay(queue_prefix).run(until_empty=True)
    assert RelayProcess.objects.count() == 0
    assert not OutboxPending.objects.exists()


def test_backlog_reports_pending_rows_and_the_age_of_the_oldest(queue_prefix: str) -> None:
    from events.relay import batches

    assert batches.backlog() == (0, 0.0)
    adjust("A:MUG")
    adjust("B:TEE")
    OutboxEvent.objects.filter(aggregate_id="A:MUG").update(created_at=timezone.now() - timedelta(seconds=90))
    count, lag = batches.backlog()
    assert count == 2 and 90 <= lag < 120


def test_a_running_relay_resends_in_order_after_the_broker_refuses_a_batch_mid_stream(queue_prefix: str) -> None:
    from events.transports import open_transport

    sent = [adjust(f"W:{i % 3}", delta=i + 1) for i in range(40)]
    relay = make_relay(queue_prefix, batch_size=5, backoff_max_seconds=0.05)
    good, dead = relay.transport, open_transport(f"redis://127.0.0.1:{free_port()}/0")
    calls = 0

    class SecondBatchFails:  # the broker really is unreachable for that one batch: a closed port
        def send(self, deliveries):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            (dead if calls == 2 else good).send(deliveries)

        def close(self) -> None:
            good.close()

    relay.transport = SecondBatchFails()

    stats = relay.run(until_empty=True)

    assert stats.failures == 1 and stats.sent == 40
    received = [(env["subject"], env["sequence"], previous) for _, env, previous in frames(queue_prefix, "ledger")]
    assert [(s, q) for s, q, _ in received] == [(e.subject, e.sequence) for e in sent]
    by_aggregate: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for subject, sequence, previous in received:
        by_aggregate[subject].append((sequence, previous))
    assert all(pairs == [(n, n - 1) for n in range(1, len(pairs) + 1)] for pairs in by_aggregate.values())
    assert not OutboxPending.objects.exists()


@pytest.mark.postgres
def test_two_relays_share_partitions_and_keep_each_aggregates_order(queue_prefix: str) -> None:
    aggregates = [f"W:{i}" for i in range(40)]
    for round_ in range(25):
        for aggregate in aggregates:
            adjust(aggregate, delta=round_ + 1)
    relays = [make_relay(queue_prefix, name=f"relay-{n}", batch_size=50) for n in range(2)]
    owned: dict[str, frozenset[int]] = {}
    barrier = threading.Barrier(2)

    def run(relay) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            for _ in range(3):  # heartbeats: both see each other and settle on half the partitions each
                relay._refresh_ownership()
                barrier.wait()
            owned[relay.name.split(":")[0]] = relay.ownership.owned
            relay.run(until_empty=True)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(r,)) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert owned["relay-0"].isdisjoint(owned["relay-1"])
    assert owned["relay-0"] | owned["relay-1"] == frozenset(range(16))
    assert sum(r.stats.sent for r in relays) == 1000
    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for _, envelope, _ in frames(queue_prefix, "ledger"):
        by_aggregate[envelope["subject"]].append(envelope["sequence"])
    assert {a: seqs for a, seqs in by_aggregate.items()} == {a: list(range(1, 26)) for a in aggregates}
