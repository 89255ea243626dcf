"""``events_consume --sqs`` against a moto server: each message has one effect, in per-aggregate order; what
cannot be handled is dead-lettered and deleted; what must wait is hidden and comes back."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError

from events.aws.targets import AwsDelivery, AwsTargets
from events.conf import get_config
from events.envelope import Envelope
from events.handlers import handler_table
from events.models import DeadLetter, InboxEntry
from monolith.reporting.models import SkuSales
from tests.e2e.processes import ROOT, start_process, wait_for
from tests.integration.aws_support import counts, make_queue, send, unique
from tests.integration.event_factories import body, envelope, order_confirmed, order_data
from tests.integration.process_database import ProcessDatabase

pytestmark = [pytest.mark.usefixtures("moto_endpoint"), pytest.mark.django_db(transaction=True)]


def broken(event: Envelope) -> None:
    raise ConnectionError("ledger store unavailable")


HANDLERS = {
    "reporting": {
        "order.confirmed": ["monolith.reporting.handlers.on_order_confirmed"],
        "order.cancelled": ["monolith.reporting.handlers.on_order_cancelled"],
    },
    "poisoned": {"order.confirmed": ["tests.integration.test_aws_consume.broken"]},
}


@pytest.fixture(autouse=True)
def handlers(settings: Any) -> Iterator[None]:
    """The monolith's reporting consumer plus one whose handler always fails; two attempts before a dead letter."""
    settings.EVENTS = {**settings.EVENTS, "HANDLERS": "tests.integration.test_aws_consume.HANDLERS", "MAX_ATTEMPTS": 2}
    get_config.cache_clear()
    handler_table.cache_clear()
    yield
    get_config.cache_clear()
    handler_table.cache_clear()


def consume(url: str, consumer: str = "reporting", *more: str) -> str:
    out = StringIO()
    call_command("events_consume", "--sqs", url, "--consumer", consumer, "--once", *more, stdout=out)
    return out.getvalue()


def consume_until(url: str, done: Callable[[], bool], consumer: str = "reporting", deadline_s: float = 15.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not done():
        assert time.monotonic() < deadline, f"still waiting; queue (visible, in flight) = {counts(url)}"
        consume(url, consumer, "--wait-seconds", "2")


def sales(sku: str = "MUG") -> tuple[int, int]:
    row = SkuSales.objects.filter(sku=sku).first()
    return (row.units, row.orders) if row else (0, 0)


def cancelled(sequence: int, subject: str, quantity: int = 1) -> Envelope:
    data = {**order_data("cancelled", [("MUG", quantity, "12.50")]), "reason": "customer asked"}
    return envelope("order.cancelled", data, subject=subject, sequence=sequence, aggregate_type="order")


def test_a_message_delivered_twice_has_one_effect_and_both_copies_are_deleted() -> None:
    url = make_queue("reporting")
    event = order_confirmed(1, quantity=3)
    send(url, body(event), previous=0)
    send(url, body(event), previous=0)

    out = consume(url, "reporting", "--wait-seconds", "1")

    assert out.strip() == "events_consume reporting: 2 messages (duplicate 1, handled 1): 2 deleted, 0 delayed"
    assert sales() == (3, 1)
    assert InboxEntry.objects.filter(consumer="reporting", event_id=event.id).count() == 1
    assert counts(url) == (0, 0)


def test_a_poison_message_is_retried_then_dead_lettered_and_deleted() -> None:
    url = make_queue("poisoned")
    event = order_confirmed(1)
    send(url, body(event), previous=0)

    assert "(retry 1): 0 deleted, 1 delayed" in consume(url, "poisoned", "--wait-seconds", "1")
    assert counts(url) == (0, 1) and not DeadLetter.objects.exists()
    consume_until(url, lambda: DeadLetter.objects.exists(), consumer="poisoned")

    letter = DeadLetter.objects.get()
    assert (letter.consumer, letter.reason, letter.attempts) == ("poisoned", "handler_failed", 2)
    assert str(letter.event_id) == event.id and "ledger store unavailable" in letter.error
    assert counts(url) == (0, 0)


def test_a_malformed_body_becomes_a_malformed_dead_letter_and_is_deleted() -> None:
    url = make_queue("reporting")
    send(url, "this is not an event")
    send(url, json.dumps({"detail-type": "order.confirmed", "detail": {}, "source": "x", "resources": []}))

    assert "2 messages (dead 2): 2 deleted" in consume(url, "reporting", "--wait-seconds", "1")
    letters = DeadLetter.objects.order_by("id")
    assert [(d.reason, d.consumer) for d in letters] == [("malformed", "reporting")] * 2
    assert letters[0].body == "this is not an event"
    assert counts(url) == (0, 0)


def test_an_early_event_waits_hidden_and_is_applied_after_its_predecessor() -> None:
    url = make_queue("reporting")
    first, second = order_confirmed(1, subject="order-9"), cancelled(2, "order-9")
    send(url, body(second), previous=1)

    assert "(waiting 1): 0 deleted, 1 delayed" in consume(url, "reporting", "--wait-seconds", "1")
    assert counts(url) == (0, 1) and not InboxEntry.objects.exists()

    send(url, body(first), previous=0)
    consume_until(url, lambda: InboxEntry.objects.count() == 2)

    applied = list(InboxEntry.objects.order_by("id").values_list("sequence", "outcome"))
    assert applied == [(1, "handled"), (2, "handled")]
    assert sales() == (0, 0)  # confirmed, then cancelled: counted and uncounted, in that order
    assert counts(url) == (0, 0)


def test_a_crash_outside_the_inbox_leaves_the_message_for_redelivery(monkeypatch: pytest.MonkeyPatch) -> None:
    url = make_queue("reporting")
    event = order_confirmed(1)
    send(url, body(event), previous=0)

    def database_down(**_: Any) -> None:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("events.aws.sqs_consumer.receive", database_down)
    out = consume(url, "reporting", "--wait-seconds", "1", "--visibility-timeout", "1")
    assert "0 deleted, 0 delayed, 1 left for redelivery after a crash" in out
    assert counts(url) == (0, 1)

    monkeypatch.undo()
    consume_until(url, lambda: InboxEntry.objects.exists())
    assert InboxEntry.objects.get().outcome == "handled" and sales() == (1, 1)
    assert counts(url) == (0, 0)


def test_events_routed_through_eventbridge_rules_are_consumed(settings: Any) -> None:
    bus = unique("shop")
    settings.EVENTS = {**settings.EVENTS, "QUEUE_PREFIX": unique("")}
    get_config.cache_clear()
    call_command("events_rules", "deploy", "--eventbridge", bus, stdout=StringIO())
    from tests.integration.aws_support import sqs

    url = sqs().get_queue_url(QueueName=get_config().queue_prefix + "reporting")["QueueUrl"]
    events = [order_confirmed(1, subject="order-5", quantity=2), cancelled(2, "order-5", quantity=2)]
    events = [Envelope.from_dict({**e.to_dict(), "source": "monolith/orders"}) for e in events]
    targets = AwsTargets()
    try:  # sent in reverse: the consumer restores the order from the previous sequence in the resources
        targets.send([AwsDelivery("eventbridge", bus, body(e), {"reporting": e.sequence - 1}) for e in events[::-1]])
    finally:
        targets.close()

    consume_until(url, lambda: InboxEntry.objects.count() == 2)

    applied = InboxEntry.objects.order_by("id").values_list("event_id", "outcome")
    assert [(str(event_id), outcome) for event_id, outcome in applied] == [(e.id, "handled") for e in events]
    assert sales() == (0, 0) and SkuSales.objects.filter(sku="MUG").exists()  # counted, then uncounted


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ([], "--sqs needs the queue URL"),
        (["--sqs", "orders"], "--sqs needs the queue URL"),
        (["--sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/q"], "--consumer None may hold"),
        (["--sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/q", "--consumer", "nobody"],
         "--consumer 'nobody' has no handlers in EVENTS HANDLERS \\(known: poisoned, reporting\\)"),
        (["--sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/q", "--consumer", "reporting",
          "--wait-seconds", "21"], "--wait-seconds must be from 0 to 20, got 21"),
        (["--sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/q", "--consumer", "reporting",
          "--max-messages", "ten"], "--max-messages must be a whole number, got 'ten'"),
    ],
    ids=["no-sqs", "not-a-url", "no-consumer", "unknown-consumer", "wait", "max-messages"],
)  # fmt: skip
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], problem: str) -> None:
    with pytest.raises(CommandError, match=problem) as caught:
        call_command("events_consume", *args, stdout=StringIO())
    assert caught.value.returncode == 2 and "\n" not in str(caught.value)


@pytest.mark.timeout(120)
def test_the_command_as_a_process_consumes_and_stops_cleanly_on_sigterm(
    shared_database: ProcessDatabase, tmp_path: Path
) -> None:
    url = make_queue("reporting")
    event = order_confirmed(1, subject=unique("order"), sku=unique("SKU")[:20], quantity=4)
    send(url, body(event), previous=0)
    argv = [sys.executable, str(ROOT / "manage.py"), "events_consume", "--sqs", url, "--consumer", "reporting",
            "--wait-seconds", "20"]  # fmt: skip
    process = start_process("consume", argv, shared_database.env(), tmp_path)
    try:
        sku = event.data["lines"][0]["sku"]
        wait_for(
            "the consumer to apply the event",
            lambda: shared_database.query("SELECT units FROM reporting_skusales WHERE sku = %s", sku) == [(4,)],
            deadline_s=30, progress=process.log,
        )  # fmt: skip
        wait_for("the message to be deleted", lambda: counts(url) == (0, 0), deadline_s=10)
        started = time.monotonic()
        process.popen.send_signal(signal.SIGTERM)  # idle in a 20 s long poll: it must not wait it out
        assert process.popen.wait(timeout=15) == 0, process.log()
        assert time.monotonic() - started < 10
    finally:
        process.stop()
    log = process.log()
    assert "consuming " + url + " as reporting" in log
    assert "(attempt 1): handled" in log and "SIGTERM received" in log
    assert "events_consume reporting: stopped while waiting" in log
