"""The relay sending to AWS (a moto server): ``sqs:`` targets directly, and everything through one EventBridge bus
holding the same rules (``EVENTS['EVENTBRIDGE_BUS']``), with each consumer's previous sequence riding along."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from events.aws.codec import decode_sqs_message
from events.aws.deploy import deploy_rules
from events.conf import get_config
from events.models import OutboxPending
from events.relay import Relay
from events.router import Router, parse_rules
from tests.e2e.processes import free_port
from tests.integration.aws_support import drain, make_queue, sqs, unique
from tests.integration.relay_support import adjust, order_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("moto_endpoint")]


def relay_for(rules: str, **settings: object) -> Relay:
    # The broker is a closed port: anything the relay tried to put on it would fail the run.
    config = replace(
        get_config(), broker_url=f"redis://127.0.0.1:{free_port()}/0", broker_options={}, heartbeat_seconds=0.0,
        **settings,
    )  # fmt: skip
    return Relay(config=config, name="relay-aws", router=Router(parse_rules(rules)))


def decoded(url: str, consumer: str, expected: int) -> list[tuple[str, int | None]]:
    return [
        decode_sqs_message(m["Body"], m.get("MessageAttributes", {}), consumer) for m in drain(url, expected=expected)
    ]


def test_sqs_targets_get_the_envelopes_in_order_with_previous_sequences() -> None:
    url = make_queue("audit")
    name = url.rsplit("/", 1)[-1]
    relay = relay_for(f"""
rules:
  - {{name: audit-stock, pattern: {{detail-type: [{{prefix: "stock."}}]}}, targets: [{{sqs: {name}}}]}}
""")
    sent = [adjust("A:MUG", delta=i) for i in range(1, 6)]
    order_event(str(uuid.uuid4()), "order.placed")  # no rule: marked sent, delivered nowhere

    assert relay.run(until_empty=True).sent == 6

    assert decoded(url, name, expected=5) == [(e.to_json().decode(), e.sequence - 1) for e in sent]
    assert not OutboxPending.objects.exists()


def test_with_an_eventbridge_bus_the_relay_publishes_once_and_the_deployed_rules_fan_out() -> None:
    bus, prefix = unique("shop"), f"{unique('p')}-"
    rules = """
rules:
  - {name: ledger-gets-stock, pattern: {detail-type: [{prefix: "stock."}]}, targets: [{queue: ledger}]}
  - {name: reporting-gets-orders, pattern: {detail-type: [order.confirmed]}, targets: [{queue: reporting}]}
"""
    list(deploy_rules(parse_rules(rules), bus=bus, queue_prefix=prefix))
    urls = {c: sqs().get_queue_url(QueueName=prefix + c)["QueueUrl"] for c in ("ledger", "reporting")}
    stock = [adjust("A:MUG", delta=i) for i in range(1, 4)]
    order = str(uuid.uuid4())
    placed, confirmed = order_event(order, "order.placed"), order_event(order, "order.confirmed")

    assert relay_for(rules, queue_prefix=prefix, eventbridge_bus=bus).run(until_empty=True).sent == 5

    assert decoded(urls["ledger"], "ledger", expected=3) == [(e.to_json().decode(), e.sequence - 1) for e in stock]
    # order.placed reaches no rule; the confirmation's previous for reporting is 0: nothing earlier was routed there.
    assert decoded(urls["reporting"], "reporting", expected=1) == [(confirmed.to_json().decode(), 0)]
    assert placed.sequence == 1 and confirmed.sequence == 2


def test_aws_refusing_a_batch_leaves_it_pending_for_the_retry() -> None:
    relay = relay_for("""
rules:
  - {name: gone, pattern: {detail-type: [{prefix: "stock."}]}, targets: [{sqs: no-such-queue}]}
""")
    adjust("A:MUG")

    assert relay.step() == 0

    (pending,) = OutboxPending.objects.all()
    assert pending.attempts == 1
    assert "NonExistentQueue" in pending.last_error, pending.last_error
