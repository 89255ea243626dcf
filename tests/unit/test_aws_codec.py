"""An envelope survives the trip through EventBridge and SQS exactly; anything else reaches the inbox as it came."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from events.aws.codec import (
    EventDecodeError,
    cloudevent_resources,
    decode_sqs_message,
    from_eventbridge_event,
    put_events_entry,
    sqs_message,
)
from events.envelope import Envelope


def make(**overrides: Any) -> Envelope:
    fields: dict[str, Any] = {
        "type": "order.confirmed", "source": "monolith/orders", "subject": "o-1", "aggregatetype": "order",
        "sequence": 7, "dataschema": "urn:strangler:schema:order.confirmed:1",
        "data": {"order_id": "o-1", "total": "12.50", "lines": [{"sku": "MUG", "name": "Mug ☕"}]},
    }  # fmt: skip
    return Envelope.new(**{**fields, **overrides})


def as_eventbridge_delivers(entry: dict[str, Any]) -> dict[str, Any]:
    """The event an EventBridge rule's SQS target would carry for a PutEvents ``entry`` (time to the second)."""
    return {
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": entry["DetailType"],
        "source": entry["Source"], "account": "123456789012",
        "time": entry["Time"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "eu-west-1",
        "resources": entry["Resources"], "detail": json.loads(entry["Detail"]),
    }  # fmt: skip


def test_resources_list_every_attribute_eventbridge_would_drop_readably() -> None:
    envelope = make(causationid="c-1")
    resources = cloudevent_resources(envelope.to_dict(), {"reporting": 6, "billing": None, "audit": 0})
    assert resources == [
        f"ce:id={envelope.id}",
        "ce:specversion=1.0",
        f"ce:time={envelope.time}",
        "ce:subject=o-1",
        "ce:aggregatetype=order",
        "ce:sequence=7",
        "ce:dataschema=urn:strangler:schema:order.confirmed:1",
        "ce:datacontenttype=application/json",
        f"ce:correlationid={envelope.correlationid}",
        "ce:causationid=c-1",
        "ce:previous:audit=0",
        "ce:previous:reporting=6",
    ]


def test_the_put_events_entry_carries_source_type_time_and_data() -> None:
    envelope = make()
    entry = put_events_entry(envelope.to_dict(), bus="shop", previous={})
    assert entry["Source"] == "monolith/orders" and entry["DetailType"] == "order.confirmed"
    assert entry["EventBusName"] == "shop"
    assert entry["Time"] == datetime.fromisoformat(envelope.time) and entry["Time"].tzinfo is not None
    assert json.loads(entry["Detail"]) == envelope.data
    assert entry["Resources"] == cloudevent_resources(envelope.to_dict(), {})


@pytest.mark.parametrize("causation", [None, "c-9"])
def test_an_envelope_round_trips_through_eventbridge_byte_for_byte(causation: str | None) -> None:
    envelope = make(causationid=causation)
    entry = put_events_entry(envelope.to_dict(), bus="shop", previous={"reporting": 6, "billing": 2})
    body, previous = from_eventbridge_event(as_eventbridge_delivers(entry), "reporting")
    assert json.loads(body) == envelope.to_dict()
    assert body == envelope.to_json().decode()
    assert previous == 6
    assert from_eventbridge_event(as_eventbridge_delivers(entry), "billing")[1] == 2
    assert from_eventbridge_event(as_eventbridge_delivers(entry), "nobody")[1] is None


def test_extension_attributes_of_any_json_type_round_trip() -> None:
    raw = {**make().to_dict(), "traceparent": "00-abc-def-01", "priority": 3, "flags": {"a": [1, None]}, "n": None}
    entry = put_events_entry(raw, bus="shop", previous={})
    assert "ce:priority:json=3" in entry["Resources"] and "ce:traceparent=00-abc-def-01" in entry["Resources"]
    body, _ = from_eventbridge_event(as_eventbridge_delivers(entry), "reporting")
    assert json.loads(body) == raw
    assert Envelope.from_json(body).to_dict() == raw


def test_resources_that_are_not_ours_are_ignored() -> None:
    envelope = make()
    event = as_eventbridge_delivers(put_events_entry(envelope.to_dict(), bus="shop", previous={}))
    event["resources"] = ["arn:aws:ec2:eu-west-1:123456789012:instance/i-1", "ce:nonsense", *event["resources"]]
    assert json.loads(from_eventbridge_event(event, "reporting")[0]) == envelope.to_dict()


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"detail-type": "x", "detail": {}, "source": "s"}, "has a 'resources' list"),
        ({"detail-type": "x", "detail": {}, "source": "s", "resources": []}, "no ce:id and ce:specversion"),
        (
            {
                "detail-type": "x",
                "detail": {},
                "source": "s",
                "resources": ["ce:id=1", "ce:specversion=1.0", "ce:sequence=seven"],
            },
            "does not decode",
        ),
        ({"detail-type": "x", "resources": ["ce:id=1", "ce:specversion=1.0"]}, "has a 'source'"),
    ],
    ids=["no-resources", "not-ours", "bad-sequence", "no-source"],
)
def test_an_eventbridge_event_the_relay_did_not_write_is_refused(event: dict[str, Any], problem: str) -> None:
    with pytest.raises(EventDecodeError, match=problem):
        from_eventbridge_event(event, "reporting")


def test_a_direct_sqs_message_carries_previous_as_a_number_attribute_only_when_known() -> None:
    body = make().to_json().decode()
    assert sqs_message(body, None) == {"MessageBody": body}
    message = sqs_message(body, 0)
    assert message["MessageAttributes"] == {"previous": {"DataType": "Number", "StringValue": "0"}}
    assert decode_sqs_message(body, message["MessageAttributes"], "reporting") == (body, 0)
    assert decode_sqs_message(body, {}, "reporting") == (body, None)


def test_decode_reads_lambda_record_attributes_too() -> None:
    body = make().to_json().decode()
    attributes = {"previous": {"stringValue": "4", "stringListValues": [], "dataType": "Number"}}
    assert decode_sqs_message(body, attributes, "reporting") == (body, 4)
    assert decode_sqs_message(body, {"previous": {"StringValue": "four"}}, "reporting") == (body, None)


def test_decode_unwraps_what_an_eventbridge_rule_delivers_to_sqs() -> None:
    envelope = make()
    entry = put_events_entry(envelope.to_dict(), bus="shop", previous={"reporting": 6})
    delivered = json.dumps(as_eventbridge_delivers(entry))
    assert decode_sqs_message(delivered, {}, "reporting") == (envelope.to_json().decode(), 6)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '{"hello": "world"}',
        '{"detail-type": "x", "detail": {}, "source": "s", "resources": []}',
        "",
    ],
    ids=["not-json", "array", "unknown-object", "foreign-eventbridge-event", "empty"],
)
def test_anything_else_passes_through_unchanged_for_the_inbox_to_dead_letter(body: str) -> None:
    assert decode_sqs_message(body, {"previous": {"StringValue": "3"}}, "reporting") == (body, None)


def test_the_local_eventbridge_view_lists_the_same_resources_aws_sees() -> None:
    envelope = make()
    view = envelope.eventbridge_view()
    assert (
        view["resources"] == put_events_entry(envelope.to_dict(), bus="b", previous={"reporting": 1})["Resources"][:-1]
    )
    assert f"ce:id={envelope.id}" in view["resources"]
