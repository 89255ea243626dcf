"""The Lambda handlers, called as Lambda calls them (event dicts as AWS documents them), on the real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from events.aws.codec import put_events_entry, sqs_message
from events.aws_lambda import RetryLater, eventbridge_handler, sqs_handler
from events.conf import get_config
from events.envelope import Envelope
from events.handlers import handler_table
from events.models import DeadLetter, InboxEntry
from monolith.reporting.models import SkuSales
from tests.e2e.processes import ROOT
from tests.integration.event_factories import body, envelope, order_confirmed, order_data

pytestmark = pytest.mark.django_db
CONSUMER = "lambda-reporting"


def broken(event: Envelope) -> None:
    raise ConnectionError("warehouse API timed out")


HANDLERS = {
    CONSUMER: {
        "order.confirmed": ["monolith.reporting.handlers.on_order_confirmed"],
        "order.cancelled": ["tests.integration.test_aws_lambda.broken"],
    },
}


@pytest.fixture(autouse=True)
def handlers(settings: Any) -> Iterator[None]:
    settings.EVENTS = {**settings.EVENTS, "HANDLERS": "tests.integration.test_aws_lambda.HANDLERS"}
    get_config.cache_clear()
    handler_table.cache_clear()
    yield
    get_config.cache_clear()
    handler_table.cache_clear()


def record(event: Envelope, *, previous: int | None = 0, attempt: int = 1, queue: str = "reporting") -> dict[str, Any]:
    """An SQS record as Lambda's event source mapping hands it over (lower-case keys, string values)."""
    message = sqs_message(body(event), previous)
    attributes = {
        name: {"stringValue": value["StringValue"], "stringListValues": [], "binaryListValues": [],
               "dataType": value["DataType"]}
        for name, value in message.get("MessageAttributes", {}).items()
    }  # fmt: skip
    return {
        "messageId": str(uuid.uuid4()), "receiptHandle": "AQEB" + uuid.uuid4().hex, "body": message["MessageBody"],
        "attributes": {
            "ApproximateReceiveCount": str(attempt), "SentTimestamp": "1700000000000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
        "messageAttributes": attributes, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}", "awsRegion": "us-east-1",
    }  # fmt: skip


def cancelled(sequence: int, subject: str) -> Envelope:
    data = {**order_data("cancelled", [("MUG", 1, "12.50")]), "reason": ""}
    return envelope("order.cancelled", data, subject=subject, sequence=sequence, aggregate_type="order")


def mug_units() -> int:
    row = SkuSales.objects.filter(sku="MUG").first()
    return row.units if row else 0


def test_an_sqs_batch_reports_exactly_the_records_to_redeliver_and_applies_each_event_once() -> None:
    good = order_confirmed(1, subject="order-1", quantity=2)
    failing = cancelled(1, "order-2")
    batch = [record(good), record(good, attempt=2), record(failing)]

    result = sqs_handler(CONSUMER)({"Records": batch}, None)

    assert result == {"batchItemFailures": [{"itemIdentifier": batch[2]["messageId"]}]}
    assert mug_units() == 2
    assert list(InboxEntry.objects.values_list("event_id", "outcome")) == [(uuid.UUID(good.id), "handled")]

    again = sqs_handler(CONSUMER)({"Records": [record(good)]}, None)
    assert again == {"batchItemFailures": []} and mug_units() == 2


def test_an_early_record_and_a_crash_are_redelivered(monkeypatch: pytest.MonkeyPatch) -> None:
    early = record(order_confirmed(2, subject="order-3"), previous=1)
    assert sqs_handler(CONSUMER)({"Records": [early]}, None) == {
        "batchItemFailures": [{"itemIdentifier": early["messageId"]}]
    }

    def crash(**_: Any) -> None:
        raise RuntimeError("database unreachable")

    monkeypatch.setattr("events.aws.sqs_consumer.receive", crash)
    crashed = record(order_confirmed(1, subject="order-4"))
    assert sqs_handler(CONSUMER)({"Records": [crashed]}, None) == {
        "batchItemFailures": [{"itemIdentifier": crashed["messageId"]}]
    }
    assert not InboxEntry.objects.exists()


def test_on_a_fifo_queue_every_record_after_a_failure_is_redelivered_unprocessed() -> None:
    first, after = cancelled(1, "order-5"), order_confirmed(1, subject="order-6")
    batch = [record(first, queue="reporting.fifo"), record(after, queue="reporting.fifo")]
    result = sqs_handler(CONSUMER)({"Records": batch}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in batch]}
    assert mug_units() == 0 and not InboxEntry.objects.exists()


def test_poison_and_malformed_records_are_dead_lettered_and_not_redelivered() -> None:
    malformed = {**record(order_confirmed(1)), "body": "{not json"}
    poison = record(cancelled(1, "order-7"), attempt=get_config().max_attempts)
    assert sqs_handler(CONSUMER)({"Records": [malformed, poison]}, None) == {"batchItemFailures": []}
    assert sorted(DeadLetter.objects.values_list("reason", flat=True)) == ["handler_failed", "malformed"]


def eventbridge_event(event: Envelope, previous: dict[str, int | None]) -> dict[str, Any]:
    """What EventBridge passes to a function it invokes for a rule, for an entry the relay put."""
    entry = put_events_entry(event.to_dict(), bus="shop", previous=previous)
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": entry["DetailType"], "source": entry["Source"],
        "account": "123456789012", "time": entry["Time"].strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
        "resources": entry["Resources"], "detail": json.loads(entry["Detail"]),
    }  # fmt: skip


def test_a_direct_eventbridge_invocation_returns_the_outcome_and_raises_to_retry() -> None:
    handler = eventbridge_handler(CONSUMER)
    first, second = order_confirmed(1, subject="order-8"), order_confirmed(2, subject="order-8")

    with pytest.raises(RetryLater, match="is waiting"):
        handler(eventbridge_event(second, {CONSUMER: 1}), None)
    assert handler(eventbridge_event(first, {CONSUMER: 0}), None) == "handled"
    assert handler(eventbridge_event(first, {CONSUMER: 0}), None) == "duplicate"
    assert handler(eventbridge_event(second, {CONSUMER: 1}), None) == "handled"
    assert mug_units() == 2
    with pytest.raises(RetryLater, match="is retry"):
        handler(eventbridge_event(cancelled(1, "order-9"), {CONSUMER: 0}), None)
    foreign = {**eventbridge_event(first, {}), "resources": []}
    assert handler(foreign, None) == "dead"
    assert DeadLetter.objects.get().reason == "malformed"


def test_the_handler_sets_django_up_itself_in_a_fresh_interpreter() -> None:
    code = "from events.aws_lambda import sqs_handler\nprint(sqs_handler('reporting')({'Records': []}, None))\n"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "monolith.settings"}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'batchItemFailures': []}"
