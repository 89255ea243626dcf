"""``AwsTargets.send`` against a moto server: envelopes reach SQS queues and EventBridge buses whole and in order,
and anything AWS does not accept is a ``TransportError``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from events.aws.codec import decode_sqs_message
from events.aws.targets import AwsDelivery, AwsTargets
from events.envelope import Envelope
from events.transports import TransportError
from tests.integration.aws_support import counts, drain, eventbridge, make_queue, queue_arn, unique
from tests.integration.event_factories import body, stock_adjusted

pytestmark = pytest.mark.usefixtures("moto_endpoint")


@pytest.fixture
def targets() -> Iterator[AwsTargets]:
    sender = AwsTargets()
    yield sender
    sender.close()


def one_aggregate(count: int, subject: str = "A:MUG") -> list[Envelope]:
    return [stock_adjusted(i, subject=subject) for i in range(1, count + 1)]


def test_sqs_messages_arrive_in_order_and_decode_to_the_exact_envelope(targets: AwsTargets) -> None:
    url = make_queue("ledger")
    name = url.rsplit("/", 1)[-1]
    events = one_aggregate(25)
    deliveries = [AwsDelivery("sqs", name, body(e), {name: e.sequence - 1, "other": 99}) for e in events]

    targets.send(deliveries[:12])
    targets.send(deliveries[12:])

    received = drain(url, expected=25)
    decoded = [decode_sqs_message(m["Body"], m.get("MessageAttributes", {}), name) for m in received]
    assert decoded == [(body(e), e.sequence - 1) for e in events]
    assert counts(url) == (0, 0)


def test_a_queue_given_by_url_works_and_an_unknown_previous_sends_no_attribute(targets: AwsTargets) -> None:
    url = make_queue("audit")
    event = stock_adjusted(1)
    targets.send([AwsDelivery("sqs", url, body(event), {})])
    (message,) = drain(url, expected=1)
    assert message["Body"] == body(event) and "MessageAttributes" not in message


def test_large_messages_are_split_into_batches_under_the_size_limit(targets: AwsTargets) -> None:
    url = make_queue("bulky")
    name = url.rsplit("/", 1)[-1]
    events = [stock_adjusted(i, reason="x" * 100_000) for i in range(1, 6)]  # ~100 KB each: two per batch at most
    targets.send([AwsDelivery("sqs", name, body(e), {name: e.sequence - 1}) for e in events])
    assert [json.loads(m["Body"])["sequence"] for m in drain(url, expected=5)] == [1, 2, 3, 4, 5]


def test_events_put_on_a_bus_reach_the_queue_of_a_matching_rule_exactly(targets: AwsTargets) -> None:
    bus, url = unique("bus"), make_queue("via-bus")
    client = eventbridge()
    client.create_event_bus(Name=bus)
    client.put_rule(Name="stock", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["stock.adjusted"]}))
    client.put_targets(Rule="stock", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn(url)}])
    events = one_aggregate(12)  # two PutEvents calls
    causing = stock_adjusted(1, subject="B:TEE")
    caused = Envelope.new(
        type="stock.adjusted", source="tests", subject="B:TEE", data=causing.data, dataschema=causing.dataschema,
        aggregatetype="stock", sequence=2, correlationid=causing.correlationid, causationid=causing.id,
    )  # fmt: skip
    previous = [{"reporting": e.sequence - 1, "ledger": None} for e in events]

    targets.send([AwsDelivery("eventbridge", bus, body(e), p) for e, p in zip(events, previous, strict=True)])
    targets.send([AwsDelivery("eventbridge", bus, body(caused), {"reporting": 0})])

    received = [m["Body"] for m in drain(url, expected=13)]
    assert [decode_sqs_message(b, {}, "reporting") for b in received] == [
        *[(body(e), e.sequence - 1) for e in events],
        (body(caused), 0),
    ]
    assert decode_sqs_message(received[0], {}, "ledger") == (body(events[0]), None)
    delivered = json.loads(received[0])
    assert delivered["detail-type"] == "stock.adjusted" and delivered["detail"] == events[0].data
    assert f"ce:id={events[0].id}" in delivered["resources"]


def test_deliveries_to_several_targets_are_grouped_and_each_keeps_its_order(targets: AwsTargets) -> None:
    first, second = make_queue("first"), make_queue("second")
    events = one_aggregate(6)
    mixed = [AwsDelivery("sqs", first if e.sequence % 2 else second, body(e), {}) for e in events]
    targets.send(mixed)
    assert [json.loads(m["Body"])["sequence"] for m in drain(first, 3)] == [1, 3, 5]
    assert [json.loads(m["Body"])["sequence"] for m in drain(second, 3)] == [2, 4, 6]


def test_a_queue_that_does_not_exist_is_a_transport_error(targets: AwsTargets) -> None:
    name = unique("no-such-queue")
    with pytest.raises(TransportError, match=f"sqs {name}: .*NonExistentQueue"):
        targets.send([AwsDelivery("sqs", name, body(stock_adjusted(1)), {})])


def test_a_bus_that_does_not_exist_is_a_transport_error(targets: AwsTargets) -> None:
    bus = unique("no-such-bus")
    with pytest.raises(TransportError, match=f"eventbridge {bus}: .*does not exist"):
        targets.send([AwsDelivery("eventbridge", bus, body(stock_adjusted(1)), {})])


def test_an_entry_eventbridge_refuses_is_a_transport_error_naming_it(targets: AwsTargets) -> None:
    bus = unique("bus")
    eventbridge().create_event_bus(Name=bus)
    good, bad = body(stock_adjusted(1)), json.dumps({**stock_adjusted(2).to_dict(), "source": ""})
    with pytest.raises(TransportError, match="1 of 2 events refused \\(InvalidArgument: Parameter Source"):
        targets.send([AwsDelivery("eventbridge", bus, good, {}), AwsDelivery("eventbridge", bus, bad, {})])


def test_a_message_sqs_refuses_is_a_transport_error(targets: AwsTargets) -> None:
    url = make_queue("small", MaximumMessageSize="1024")
    with pytest.raises(TransportError, match="Message must be shorter than 1024 bytes"):
        targets.send([AwsDelivery("sqs", url, body(stock_adjusted(1, reason="x" * 2000)), {})])


def test_a_queue_made_again_after_a_failure_is_found_again(targets: AwsTargets) -> None:
    from tests.integration.aws_support import sqs

    name = unique("recreated")
    url = sqs().create_queue(QueueName=name)["QueueUrl"]
    targets.send([AwsDelivery("sqs", name, body(stock_adjusted(1)), {})])
    sqs().delete_queue(QueueUrl=url)
    with pytest.raises(TransportError):
        targets.send([AwsDelivery("sqs", name, body(stock_adjusted(2)), {})])
    url = sqs().create_queue(QueueName=name)["QueueUrl"]
    targets.send([AwsDelivery("sqs", name, body(stock_adjusted(3)), {})])
    assert [json.loads(m["Body"])["sequence"] for m in drain(url, 1)] == [3]


def test_a_body_that_is_not_an_envelope_is_a_transport_error_not_a_crash(targets: AwsTargets) -> None:
    bus = unique("bus")
    eventbridge().create_event_bus(Name=bus)
    with pytest.raises(TransportError, match="cannot become a PutEvents entry"):
        targets.send([AwsDelivery("eventbridge", bus, '{"id": "x"}', {})])
    with pytest.raises(TransportError, match="unknown AWS target kind 'sns'"):
        targets.send([AwsDelivery("sns", "topic", body(stock_adjusted(1)), {})])
