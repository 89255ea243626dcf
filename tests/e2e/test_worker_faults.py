"""A real Celery worker on RabbitMQ facing a duplicate, a poison event, a schema violation and a malformed body:
each gets the right dead letter or no-op, and the worker goes on to apply what follows, exactly once."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection, Queue

from events.catalogue import Catalogue
from events.envelope import Envelope
from events.transports import Delivery
from events.transports.kombu_celery import KombuCeleryTransport
from tests.e2e.pg_database import query, scratch_database
from tests.e2e.poison_handlers import POISON_CURRENCY
from tests.e2e.processes import manage, start_process, wait_for, worker_argv
from tests.services import require

pytestmark = pytest.mark.e2e

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
ORDER = str(uuid.uuid4())


@pytest.fixture
def amqp_env() -> Iterator[dict[str, str]]:
    require("RabbitMQ", "127.0.0.1", 5672)
    prefix = f"e2e-{uuid.uuid4().hex[:10]}-"
    with scratch_database("strangler_e2e") as url:
        env = {
            **os.environ, "DATABASE_URL": url, "EVENTS_BROKER_URL": AMQP_URL, "EVENTS_QUEUE_PREFIX": prefix,
            "DJANGO_SETTINGS_MODULE": "tests.e2e.poison_settings", "PYTHONUNBUFFERED": "1",
        }  # fmt: skip
        manage("migrate", "--noinput", "-v0", env=env)
        try:
            yield env
        finally:
            with Connection(AMQP_URL) as connection:
                Queue(prefix + "reporting", channel=connection.default_channel).delete()


def confirmed(sequence: int, quantity: int, currency: str = "EUR", **overrides: object) -> Envelope:
    total = f"{quantity * 10}.00"
    line = {"sku": "MUG", "name": "Mug", "unit_price": "10.00", "quantity": quantity, "line_total": total}
    data: dict[str, object] = {
        "order_id": ORDER, "customer_id": 1, "status": "confirmed", "currency": currency, "total": total,
        "lines": [line], "reservation_id": None, "payment_id": None, **overrides,
    }  # fmt: skip
    return Envelope.new(
        type="order.confirmed", source="monolith/orders", subject=ORDER, data=data, aggregatetype="order",
        sequence=sequence, dataschema=Catalogue.default().uri("order.confirmed", 1),
    )  # fmt: skip


def delivery(prefix: str, body: str, event_id: str, previous: int | None) -> Delivery:
    return Delivery(prefix + "reporting", "reporting", event_id, body, previous)


@pytest.mark.timeout(180)
def test_the_worker_dead_letters_each_bad_message_rightly_and_applies_the_rest_once(
    amqp_env: dict[str, str], tmp_path: Path
) -> None:
    env, url, prefix = amqp_env, amqp_env["DATABASE_URL"], amqp_env["EVENTS_QUEUE_PREFIX"]
    first, poison = confirmed(1, quantity=1), confirmed(2, quantity=5, currency=POISON_CURRENCY)
    invalid = confirmed(3, quantity=7, total="not a price")  # fails order.confirmed v1 at the consumer
    last = confirmed(4, quantity=2)
    messages = [
        delivery(prefix, first.to_json().decode(), first.id, 0),
        delivery(prefix, first.to_json().decode(), first.id, 0),  # the broker delivers it twice
        delivery(prefix, poison.to_json().decode(), poison.id, 1),
        delivery(prefix, invalid.to_json().decode(), invalid.id, 2),
        delivery(prefix, '{"specversion": "1.0", "id": ', "garbage", None),  # a truncated body
        delivery(prefix, last.to_json().decode(), last.id, 3),
    ]
    transport = KombuCeleryTransport(AMQP_URL, {})
    try:
        transport.send(messages)  # publisher confirms: all six are on the queue
    finally:
        transport.close()

    worker = start_process("worker", worker_argv(prefix + "reporting"), env, tmp_path)
    try:
        wait_for(
            "the last event applied",
            lambda: query(url, "SELECT outcome FROM events_inboxentry WHERE sequence = 4") == [("handled",)],
            deadline_s=120,
            progress=worker.log,
        )
    finally:
        worker.stop()

    # Effects: the first and the last order, once each; the poison and the invalid one applied nothing.
    assert query(url, "SELECT units, orders FROM reporting_skusales WHERE sku = 'MUG'") == [(3, 2)]
    assert query(url, "SELECT sequence, outcome FROM events_inboxentry ORDER BY sequence") == [
        (1, "handled"),
        (2, "dead"),
        (3, "dead"),
        (4, "handled"),
    ]
    # (The invalid event usually waits for the poison's verdict first, so its attempt count varies.)
    dead = query(url, "SELECT reason, sequence FROM events_deadletter ORDER BY reason")
    assert dead == [("handler_failed", 2), ("malformed", None), ("schema_invalid", 3)]
    ((attempts, error),) = query(url, "SELECT attempts, error FROM events_deadletter WHERE reason = 'handler_failed'")
    assert attempts == 2 and error.startswith("RuntimeError: poison pill")  # retried once, then given up
