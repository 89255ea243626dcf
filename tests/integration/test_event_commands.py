"""The operator's event commands against the real database (and, for events_replay, a real Redis)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from events.conf import EventsConfig, get_config
from events.envelope import Envelope
from events.handlers import HandlerTable, handler_table
from events.inbox import receive
from events.models import ConsumerPosition, DeadLetter, InboxEntry, OutboxEvent, OutboxPending
from events.outbox import publish
from monolith.reporting.models import SkuSales
from tests.integration.event_factories import body, order_confirmed, order_data, stock_adjusted
from tests.services import require

Configure = Callable[..., None]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def fails(*args: str, match: str) -> CommandError:
    with pytest.raises(CommandError, match=match) as caught:
        run(*args)
    return caught.value


@pytest.fixture
def configure(settings: Any) -> Iterator[Configure]:
    """Override EVENTS settings for one test; the cached config and handler table follow."""

    def apply(**overrides: Any) -> None:
        settings.EVENTS = {**settings.EVENTS, **overrides}
        get_config.cache_clear()
        handler_table.cache_clear()

    yield apply
    get_config.cache_clear()
    handler_table.cache_clear()


# ---- events_dlq ------------------------------------------------------------------------------------------------


def broken(event: Envelope) -> None:
    raise ConnectionError("reporting store unavailable")


BROKEN = {"reporting": {"order.confirmed": [broken]}}


def dead(event: Envelope | str, *, consumer: str = "reporting", previous: int | None = None) -> DeadLetter:
    """Deliver ``event`` to a consumer whose handler fails, with no retries left: one dead letter."""
    raw = event if isinstance(event, str) else body(event)
    receive(
        consumer=consumer, body=raw, previous=previous, handlers=HandlerTable(BROKEN),
        config=EventsConfig(max_attempts=1),
    )  # fmt: skip
    return DeadLetter.objects.latest("id")


def counted(sku: str = "MUG") -> int:
    row = SkuSales.objects.filter(sku=sku).first()
    return row.units if row else 0


@pytest.mark.django_db
def test_list_shows_dead_letters_newest_first_and_filters() -> None:
    failed = dead(order_confirmed(1))
    invalid = dead(stock_adjusted(1, delta="lots"))
    malformed = dead("{not json", consumer="audit")
    table = run("events_dlq", "list")
    assert [int(line.split()[0]) for line in table.splitlines()[1:]] == [malformed.pk, invalid.pk, failed.pk]
    assert "handler_failed" in table and "ConnectionError: reporting store unavailable" in table
    assert "order.confirmed order/order-1#1" in table

    only = json.loads(run("events_dlq", "list", "--consumer", "reporting", "--reason", "schema_invalid", "--json"))
    assert [(d["id"], d["reason"], d["event_type"], d["sequence"]) for d in only] == [
        (invalid.pk, "schema_invalid", "stock.adjusted", 1)
    ]
    assert [d["id"] for d in json.loads(run("events_dlq", "list", "--limit", "1", "--json"))] == [malformed.pk]
    assert run("events_dlq", "list", "--consumer", "nobody") == "no dead letters\n"
    fails("events_dlq", "list", "--reason", "bored", match="invalid choice")


@pytest.mark.django_db
def test_show_prints_the_whole_record_with_the_body_pretty_printed() -> None:
    event = order_confirmed(1)
    letter = dead(event)
    shown = run("events_dlq", "show", str(letter.pk))
    assert f"event_id:       {event.id}" in shown
    assert "error:          ConnectionError: reporting store unavailable" in shown
    assert "replayable:     yes" in shown
    assert '\n  "type": "order.confirmed",\n' in shown
    assert json.loads(shown.split("body:\n", 1)[1]) == event.to_dict()

    malformed = run("events_dlq", "show", str(dead("{not json").pk))
    assert "replayable:     no: dead letter" in malformed and malformed.endswith("body:\n{not json\n")


@pytest.mark.django_db
def test_replay_runs_the_handlers_once_and_marks_the_event_handled() -> None:
    event = order_confirmed(1, quantity=3)
    letter = dead(event)
    assert InboxEntry.objects.get(event_id=event.id).outcome == "dead"

    assert run("events_dlq", "replay", str(letter.pk)) == f"dead letter {letter.pk}: handled\n"
    assert counted() == 3
    assert InboxEntry.objects.get(event_id=event.id).outcome == "handled"
    letter.refresh_from_db()
    assert letter.replayed_at is not None

    error = fails("events_dlq", "replay", str(letter.pk), match="already replayed")
    assert error.returncode == 2 and counted() == 3
    assert receive(consumer="reporting", body=body(event), previous=0).kind == "duplicate"
    assert counted() == 3


@pytest.mark.django_db
def test_replay_applies_out_of_order_without_moving_the_aggregate_back() -> None:
    first = dead(order_confirmed(1, quantity=2), previous=0)
    assert receive(consumer="reporting", body=body(order_confirmed(2, quantity=5)), previous=1).kind == "handled"
    run("events_dlq", "replay", str(first.pk))
    assert counted() == 7
    position = ConsumerPosition.objects.get(consumer="reporting", aggregate_id="order-1")
    assert position.last_sequence == 2


@pytest.mark.django_db
def test_replay_refuses_what_it_cannot_replay_and_changes_nothing() -> None:
    event = order_confirmed(1)
    good = dead(event)
    malformed = dead("{not json")
    invalid = dead(stock_adjusted(1, delta="lots"))
    for ids, problem in [
        ([good.pk, malformed.pk], f"dead letter {malformed.pk} is malformed"),
        ([good.pk, invalid.pk], "still does not match its schema: stock.adjusted v1 at delta"),
        ([good.pk, 999_999], "no dead letter with id 999999"),
    ]:
        error = fails("events_dlq", "replay", *map(str, ids), match=problem)
        assert error.returncode == 2 and "\n" not in str(error)
    assert counted() == 0 and not DeadLetter.objects.filter(replayed_at__isnull=False).exists()
    assert InboxEntry.objects.get(event_id=event.id).outcome == "dead"


@pytest.mark.django_db
def test_a_sequence_gap_dead_letter_is_not_replayable() -> None:
    second = order_confirmed(2)
    handlers = HandlerTable({})  # the event that closes the gap is processed (ignored) as soon as the gap expires
    assert receive(consumer="reporting", body=body(second), previous=1, handlers=handlers).kind == "waiting"
    ConsumerPosition.objects.update(waiting_since=timezone.now() - timedelta(hours=1))
    assert receive(consumer="reporting", body=body(second), previous=1, handlers=handlers).kind == "ignored"
    gap = DeadLetter.objects.get(reason="sequence_gap")
    error = fails("events_dlq", "replay", str(gap.pk), match="records a sequence gap")
    assert error.returncode == 2 and counted() == 0


@pytest.mark.django_db
def test_a_handler_failing_again_rolls_the_replay_back(configure: Configure) -> None:
    event = order_confirmed(1)
    letter = dead(event)
    configure(HANDLERS="tests.integration.test_event_commands.BROKEN")
    error = fails("events_dlq", "replay", str(letter.pk), match="handler failed again: ConnectionError")
    assert error.returncode == 2
    letter.refresh_from_db()
    assert letter.replayed_at is None and InboxEntry.objects.get(event_id=event.id).outcome == "dead"


@pytest.mark.django_db
def test_replay_many_replays_each() -> None:
    letters = [dead(order_confirmed(1, subject=f"order-{n}", quantity=n)) for n in range(1, 5)]
    assert run("events_dlq", "replay", *(str(d.pk) for d in letters)) == "replayed 4 dead letters\n"
    assert counted() == 1 + 2 + 3 + 4
    assert InboxEntry.objects.filter(outcome="handled").count() == 4


@pytest.mark.django_db
def test_discard_deletes_all_or_nothing() -> None:
    keep, drop, also = dead(order_confirmed(1)), dead("{not json"), dead(order_confirmed(1, subject="order-2"))
    error = fails("events_dlq", "discard", str(drop.pk), "424242", match="no dead letter with id 424242")
    assert error.returncode == 2 and DeadLetter.objects.count() == 3
    assert run("events_dlq", "discard", str(drop.pk), str(also.pk)) == "discarded 2 dead letters\n"
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [keep.pk]


# ---- events_replay ---------------------------------------------------------------------------------------------


def archive() -> dict[str, list[Envelope]]:
    """Events in the outbox: two stock aggregates and one order, published interleaved, some already sent."""
    published: dict[str, list[Envelope]] = {"A:MUG": [], "B:TEE": [], "order-1": []}
    with transaction.atomic():
        for subject in ("A:MUG", "B:TEE", "A:MUG", "order-1", "A:MUG", "B:TEE"):
            if subject == "order-1":
                event = publish(type="order.confirmed", source="monolith/orders", aggregate_type="order",
                                aggregate_id=subject, data=order_data("confirmed", [("MUG", 2, "25.00")]))  # fmt: skip
            else:
                data = {"warehouse": subject[0], "sku": subject[2:], "delta": 1, "reason": "count", "levels": []}
                event = publish(type="stock.adjusted", source="tests", aggregate_type="stock", aggregate_id=subject,
                                data=data)  # fmt: skip
            published[subject].append(event)
    sent = OutboxEvent.objects.filter(aggregate_id="A:MUG").values("id")
    OutboxPending.objects.filter(id__in=sent).delete()
    return published


@pytest.fixture
def broker(configure: Configure) -> Iterator[tuple[redis.Redis, str]]:
    """A real Redis as the events broker, with a queue prefix no other test or process uses."""
    require("Redis", "127.0.0.1", 6379)
    prefix = f"test-{uuid.uuid4()}-"
    configure(BROKER_URL="redis://127.0.0.1:6379/0", BROKER_OPTIONS={}, QUEUE_PREFIX=prefix, BATCH_SIZE=2)
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    try:
        yield client, prefix
    finally:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()


def queued(client: redis.Redis, queue: str) -> list[tuple[str, dict[str, Any], int | None]]:
    """(consumer, envelope, previous) of each Celery message on ``queue``, oldest first (workers BRPOP)."""
    tasks = []
    for frame in reversed(client.lrange(queue, 0, -1)):
        message = json.loads(frame)
        assert message["headers"]["task"] == "events.deliver"
        args, kwargs, embed = json.loads(base64.b64decode(message["body"]))
        assert kwargs == {} and set(embed) == {"callbacks", "errbacks", "chain", "chord"}
        consumer, envelope, previous = args
        tasks.append((consumer, json.loads(envelope), previous))
    return tasks


def seq(tasks: list[tuple[str, dict[str, Any], int | None]]) -> list[tuple[str, int, int | None]]:
    return [(envelope["subject"], envelope["sequence"], previous) for _, envelope, previous in tasks]


@pytest.mark.django_db
def test_replay_sends_the_archive_in_aggregate_order_with_previous_chained(broker: tuple[redis.Redis, str]) -> None:
    client, prefix = broker
    published = archive()
    summary = run("events_replay", "--consumer", "rebuild")
    assert summary == f"replayed 6 events of 3 aggregates to consumer rebuild (queue {prefix}rebuild) in 3 batches\n"
    tasks = queued(client, prefix + "rebuild")
    assert {consumer for consumer, _, _ in tasks} == {"rebuild"}
    assert seq(tasks) == [
        ("order-1", 1, None), ("A:MUG", 1, None), ("A:MUG", 2, 1), ("A:MUG", 3, 2), ("B:TEE", 1, None), ("B:TEE", 2, 1),
    ]  # fmt: skip
    assert tasks[1][1] == published["A:MUG"][0].to_dict()
    assert client.keys(prefix + "*") == [(prefix + "rebuild").encode()]


@pytest.mark.django_db
def test_replay_filters_by_type_aggregate_and_time(broker: tuple[redis.Redis, str]) -> None:
    client, prefix = broker
    archive()
    run("events_replay", "--consumer", "c1", "--type", "order.confirmed")
    assert seq(queued(client, prefix + "c1")) == [("order-1", 1, None)]
    run("events_replay", "--consumer", "c2", "--aggregate-type", "stock", "--subject", "B:TEE")
    assert seq(queued(client, prefix + "c2")) == [("B:TEE", 1, None), ("B:TEE", 2, 1)]

    late = timezone.now() + timedelta(hours=1)
    OutboxEvent.objects.filter(aggregate_id="A:MUG", sequence__gte=2).update(created_at=late)
    since = (late - timedelta(minutes=1)).isoformat()
    run("events_replay", "--consumer", "c3", "--since", since, "--type", "stock.adjusted")
    assert seq(queued(client, prefix + "c3")) == [("A:MUG", 2, None), ("A:MUG", 3, 2)]
    run("events_replay", "--consumer", "c4", "--until", since)
    assert [s for s in seq(queued(client, prefix + "c4")) if s[0] == "A:MUG"] == [("A:MUG", 1, None)]


@pytest.mark.django_db
def test_replayed_events_rebuild_the_consumer_once_even_when_replayed_twice(broker: tuple[redis.Redis, str]) -> None:
    client, prefix = broker
    archive()
    for _ in range(2):
        run("events_replay", "--consumer", "reporting", "--type", "order.confirmed", "--type", "stock.adjusted")
    tasks = queued(client, prefix + "reporting")
    assert len(tasks) == 12
    outcomes = [receive(consumer=c, body=json.dumps(e), previous=p).kind for c, e, p in tasks]  # as the worker would
    assert outcomes == ["handled"] + ["ignored"] * 5 + ["duplicate"] * 6
    assert counted() == 2


@pytest.mark.django_db
def test_dry_run_prints_the_count_and_first_events_and_sends_nothing(broker: tuple[redis.Redis, str]) -> None:
    client, prefix = broker
    published = archive()
    preview = run("events_replay", "--consumer", "rebuild", "--aggregate-type", "stock", "--dry-run")
    lines = preview.splitlines()
    assert lines[0] == f"would replay 5 events to consumer rebuild (queue {prefix}rebuild)"
    assert "stock.adjusted" in lines[1] and "stock/A:MUG#1" in lines[1] and published["A:MUG"][0].id in lines[1]
    assert "(sent)" in lines[1] and "(not sent yet)" in lines[-1] and len(lines) == 6
    assert client.keys(prefix + "*") == []
    assert (
        run("events_replay", "--consumer", "rebuild", "--subject", "nope")
        == "nothing to replay: no archived event matches\n"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--type", "order.teleported"], "--type 'order.teleported' is not in the event catalogue"),
        (
            ["--since", "2025-02-01T00:00Z", "--until", "2025-01-01"],
            "--since 2025-02-01T00:00:00\\+00:00 is not before",
        ),
        (["--subject", ""], "--subject must not be empty"),
    ],
)
def test_replay_refuses_bad_filters(args: list[str], problem: str) -> None:
    error = fails("events_replay", "--consumer", "reporting", *args, match=problem)
    assert error.returncode == 2


@pytest.mark.django_db
def test_replay_refuses_a_bad_consumer_or_timestamp() -> None:
    assert fails("events_replay", "--consumer", "no spaces", match="--consumer 'no spaces' may hold").returncode == 2
    fails("events_replay", "--consumer", "reporting", "--since", "last tuesday", match="not an ISO 8601 timestamp")
    fails("events_replay", match="--consumer")


# ---- events_rules ----------------------------------------------------------------------------------------------

RULES = """
rules:
  - name: stock-watchers
    pattern: {"detail-type": [{"prefix": "stock."}]}
    targets: [{queue: inventory}, {queue: audit}]
  - name: big-adjustments
    description: Large counted adjustments get a second look.
    pattern: {"detail-type": ["stock.adjusted"], "detail": {"delta": [{"numeric": [">=", 100]}]}}
    targets: [{queue: audit}]
"""


def write(tmp_path: Path, name: str, content: str | dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_check_lists_the_projects_rules_and_their_targets() -> None:
    out = run("events_rules", "check")
    assert out.splitlines()[0].endswith("monolith/event_rules.yaml: 5 rules, valid")
    assert "  reporting-tracks-sales -> queue reporting\n" in out
    assert "  inventory-replica -> queue inventory\n" in out
    assert '"detail-type": ["order.confirmed", "order.cancelled"]' in out


def test_check_routes_a_cloudevents_envelope_and_an_eventbridge_event(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.yaml", RULES)
    big = stock_adjusted(1, delta=250).to_dict()
    out = run("events_rules", "check", "--rules", rules, "--event", write(tmp_path, "big.json", big))
    assert "2 rules, valid" in out and "Large counted adjustments get a second look." in out
    assert out.endswith(
        "event stock.adjusted from tests hits 2 rules:\n  stock-watchers -> queue inventory, queue audit\n"
        "  big-adjustments -> queue audit\ndelivered to: queue inventory, queue audit\n"
    )
    small = stock_adjusted(1).eventbridge_view()
    out = run("events_rules", "check", "--rules", rules, "--event", write(tmp_path, "small.json", small))
    assert out.endswith(
        "hits 1 rule:\n  stock-watchers -> queue inventory, queue audit\ndelivered to: queue inventory, queue audit\n"
    )
    order = order_confirmed(1).to_dict()
    out = run("events_rules", "check", "--rules", rules, "--event", write(tmp_path, "order.json", order))
    assert out.endswith("event order.confirmed from tests hits no rule: it would be delivered nowhere\n")


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ("rules: [", "not valid YAML"),
        (
            "rules:\n  - name: a\n    pattern: {source: [{prefix: 1}]}\n    targets: [{queue: q}]",
            "rule a: invalid pattern",
        ),
        ("rules:\n  - name: a\n    pattern: {source: [x]}\n    targets: [{sns: q}]", "unknown target kind 'sns'"),
        (
            "rules:\n  - name: a\n    pattern: {source: [x]}\n    targets: [{sqs: 'bad queue'}]",
            "rule a target #1: SQS queue name 'bad queue' must be 1-80",
        ),
        (
            "rules:\n  - name: a\n    pattern: {source: [x]}\n    targets: [{sqs: 'http://sqs.example/123456789012/q'}]",
            "must use https",
        ),
        (
            "rules:\n  - name: a\n    pattern: {source: [x]}\n    targets: [{eventbridge: 'arn:aws:events:x'}]",
            "is not an event bus ARN",
        ),
        (RULES + RULES.replace("rules:", ""), "rule name 'stock-watchers' is used twice"),
    ],
    ids=["yaml", "pattern", "target", "sqs-name", "sqs-url", "bus-arn", "duplicate"],
)
def test_check_reports_an_invalid_rules_file_in_one_line(tmp_path: Path, rules: str, problem: str) -> None:
    path = write(tmp_path, "rules.yaml", rules)
    error = fails("events_rules", "check", "--rules", path, match=problem)
    assert error.returncode == 2 and str(error).startswith(path)


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ("{", "not JSON"),
        ("[1]", "an event is a JSON object"),
        (json.dumps({"type": "stock.adjusted", "source": "x"}), "not a CloudEvents envelope \\(missing attributes: "),
    ],
)
def test_check_refuses_an_event_file_that_is_not_an_event(tmp_path: Path, event: str, problem: str) -> None:
    path = write(tmp_path, "event.json", event)
    error = fails("events_rules", "check", "--rules", write(tmp_path, "r.yaml", RULES), "--event", path, match=problem)
    assert error.returncode == 2
    missing = fails("events_rules", "check", "--rules", str(tmp_path / "absent.yaml"), match="cannot read")
    assert missing.returncode == 2
