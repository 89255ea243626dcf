"""Each broker transport delivers Celery messages a worker can read, in order, acknowledged by the broker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Queue

from events.envelope import Envelope
from events.transports import Delivery, TransportError, open_transport
from tests.e2e.processes import free_port, start_process, wait_for, worker_argv
from tests.integration.event_factories import body, order_confirmed
from tests.integration.process_database import ProcessDatabase
from tests.services import require

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
SQS_URL = "sqs://"
SQS_OPTIONS: dict[str, Any] = {"region": "us-east-1", "wait_time_seconds": 1, "visibility_timeout": 30}


@pytest.fixture(params=["redis", "amqp", "filesystem", "sqs"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if request.param == "sqs":
        # kombu's SQS transport makes its boto3 client without an endpoint when the URL names no host, so boto3
        # takes AWS_ENDPOINT_URL (the moto server) from the environment, as it would take a real region's.
        request.getfixturevalue("moto_endpoint")
        yield SQS_URL, SQS_OPTIONS
    elif request.param == "redis":
        require("Redis", "127.0.0.1", 6379)
        yield "redis://127.0.0.1:6379/0", {}
    elif request.param == "amqp":
        require("RabbitMQ", "127.0.0.1", 5672)
        yield AMQP_URL, {}
    else:
        folder = str(tmp_path / "broker")
        Path(folder).mkdir()
        yield "filesystem://", {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder}


def drain(url: str, options: dict[str, Any], queue: str, expected: int) -> list[tuple[str, dict[str, Any], Any]]:
    """Consume ``queue`` as a Celery worker would and return (task name, envelope, previous) per message."""
    received: list[tuple[str, dict[str, Any], Any]] = []
    with Connection(url, transport_options=options) as conn:
        simple = conn.SimpleQueue(Queue(queue, durable=True), no_ack=False)
        try:
            while len(received) < expected:
                message = simple.get(timeout=10)
                # kombu has already undone the transport's body encoding, as it does for a worker
                (consumer, envelope, previous), kwargs, _ = json.loads(message.body)
                assert consumer == "ledger" and kwargs == {}
                received.append((message.headers["task"], json.loads(envelope), previous))
                message.ack()
        finally:
            simple.close()
            Queue(queue, durable=True, channel=conn.default_channel).delete()
    return received


def deliveries(queue: str, count: int) -> list[Delivery]:
    out = []
    for i in range(1, count + 1):
        envelope = {"id": str(uuid.uuid4()), "subject": "A:MUG", "sequence": i}
        out.append(Delivery(queue, "ledger", envelope["id"], json.dumps(envelope), i - 1))
    return out


def test_transport_delivers_acknowledged_celery_messages_in_order(broker: tuple[str, dict[str, Any]]) -> None:
    url, options = broker
    queue = f"test-{uuid.uuid4().hex[:10]}-ledger"
    sent = deliveries(queue, 25)
    transport = open_transport(url, options)
    try:
        transport.send(sent[:10])
        transport.send(sent[10:])
    finally:
        transport.close()

    received = drain(url, options, queue, expected=25)

    assert [task for task, _, _ in received] == ["events.deliver"] * 25
    pairs = [(envelope["sequence"], previous) for _, envelope, previous in received]
    if url.startswith("filesystem://"):
        # kombu's filesystem transport reads files in name order (timestamp + uuid): not FIFO within a
        # millisecond. Every message arrives once; the inbox restores order from sequence and previous.
        pairs.sort()
    assert pairs == [(i, i - 1) for i in range(1, 26)]


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_an_unreachable_broker_is_a_transport_error_not_a_silent_loss(scheme: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0" if scheme == "redis" else f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    transport = open_transport(url, {})
    with pytest.raises(TransportError):
        transport.send(deliveries("nowhere", 1))


@pytest.mark.timeout(180)
def test_a_celery_worker_consumes_what_the_sqs_transport_sends_through_events_deliver(
    moto_endpoint: str, shared_database: ProcessDatabase, tmp_path: Path
) -> None:
    """The relay's SQS transport and a real ``celery worker`` process (kombu's asynchronous SQS client) agree."""
    queue = f"test-{uuid.uuid4().hex[:10]}-reporting"
    sku, order = f"SKU-{uuid.uuid4().hex[:8]}", f"order-{uuid.uuid4().hex[:8]}"
    events = [order_confirmed(1, subject=order, sku=sku, quantity=2)]
    events.append(Envelope.from_dict({**events[0].to_dict(), "id": str(uuid.uuid4()), "sequence": 2}))
    transport = open_transport(SQS_URL, SQS_OPTIONS)
    try:  # sent newest first: the inbox holds the second back until the first is applied
        transport.send([Delivery(queue, "reporting", e.id, body(e), e.sequence - 1) for e in reversed(events)])
    finally:
        transport.close()

    env = shared_database.env(EVENTS_BROKER_URL=SQS_URL)
    worker = start_process("worker", worker_argv(queue, concurrency=1), env, tmp_path)
    try:
        wait_for(
            "the worker to apply both events",
            lambda: shared_database.query("SELECT units, orders FROM reporting_skusales WHERE sku = %s", sku)
            == [(4, 2)],
            deadline_s=60, progress=worker.log,
        )  # fmt: skip
    finally:
        worker.stop()
        with Connection(SQS_URL, transport_options=SQS_OPTIONS) as conn:
            Queue(queue, channel=conn.default_channel).delete()
    applied = shared_database.query(
        "SELECT sequence, outcome FROM events_inboxentry WHERE aggregate_id = %s ORDER BY id", order
    )
    assert applied == [(1, "handled"), (2, "handled")]
