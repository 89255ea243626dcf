"""How an envelope travels on AWS, and how a consumer gets the exact envelope back.

::

    entry = put_events_entry(envelope, bus="shop", previous={"reporting": 4})    # an EventBridge PutEvents entry
    message = sqs_message(envelope_json, previous=4)                            # a direct SQS message
    body, previous = decode_sqs_message(sqs_body, message_attributes, "reporting")  # either form, back

EventBridge keeps an event's ``source``, ``detail-type``, ``detail`` and ``time`` (to the second) and nothing
else of ours, so every other CloudEvents attribute rides in ``resources``, one readable string each:
``ce:id=<uuid>``, ``ce:time=<exact time>``, ``ce:sequence=3``, … An attribute whose value is not a string
(an extension holding a number, say) is written ``ce:<name>:json=<JSON>``. The previous sequence the relay
computed for each consumer of the aggregate rides there too, as ``ce:previous:<consumer>=<n>``.

Pure functions over parsed JSON: no boto3, no Django (``events.envelope`` imports this module).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Written by EventBridge itself (source, detail-type, detail), not as resources.
_CARRIED = frozenset({"source", "type", "data"})
# Resource order, then the order ``Envelope.to_dict`` writes attributes in (extensions first), so a rebuilt
# envelope serialises to the very bytes the outbox stored.
_RESOURCE_ORDER = (
    "id", "specversion", "time", "subject", "aggregatetype", "sequence", "dataschema", "datacontenttype",
    "correlationid", "causationid",
)  # fmt: skip
_ENVELOPE_ORDER = (
    "id", "source", "type", "time", "subject", "dataschema", "data", "aggregatetype", "sequence", "correlationid",
    "causationid", "specversion", "datacontenttype",
)  # fmt: skip
_KNOWN = frozenset(_ENVELOPE_ORDER)
_PREFIX = "ce:"
_PREVIOUS = "previous:"
_JSON = ":json"


class EventDecodeError(ValueError):
    """An EventBridge event that this codec did not write (no ``ce:`` resources naming its id and version)."""


def _resource(name: str, value: Any) -> str:
    if isinstance(value, str):
        return f"{_PREFIX}{name}={value}"
    if name == "sequence" and isinstance(value, int) and not isinstance(value, bool):
        return f"{_PREFIX}sequence={value}"
    return f"{_PREFIX}{name}{_JSON}={json.dumps(value, separators=(',', ':'), ensure_ascii=False)}"


def cloudevent_resources(envelope: Mapping[str, Any], previous: Mapping[str, int | None]) -> list[str]:
    """The envelope's attributes EventBridge would drop, plus each consumer's previous sequence (None omitted)."""
    resources = [_resource(name, envelope[name]) for name in _RESOURCE_ORDER if envelope.get(name) is not None]
    resources += [_resource(name, value) for name, value in envelope.items() if name not in _KNOWN]
    resources += [f"{_PREFIX}{_PREVIOUS}{consumer}={n}" for consumer, n in sorted(previous.items()) if n is not None]
    return resources


def put_events_entry(envelope: Mapping[str, Any], *, bus: str, previous: Mapping[str, int | None]) -> dict[str, Any]:
    """A PutEvents entry for ``envelope`` (a parsed CloudEvent) on ``bus`` (a name or an ARN)."""
    return {
        "Source": envelope["source"],
        "DetailType": envelope["type"],
        "Time": datetime.fromisoformat(envelope["time"]),
        "Detail": json.dumps(envelope["data"], separators=(",", ":"), ensure_ascii=False),
        "EventBusName": bus,
        "Resources": cloudevent_resources(envelope, previous),
    }


def _decode_resource(key: str, value: str) -> tuple[str, Any]:
    if key.endswith(_JSON):
        return key.removesuffix(_JSON), json.loads(value)
    if key == "sequence":
        return key, int(value)
    return key, value


def from_eventbridge_event(event: Mapping[str, Any], consumer: str) -> tuple[str, int | None]:
    """The CloudEvents envelope JSON an EventBridge ``event`` carries, and ``consumer``'s previous sequence."""
    resources = event.get("resources")
    if not isinstance(resources, list):
        raise EventDecodeError("an EventBridge event has a 'resources' list")
    attributes: dict[str, Any] = {}
    previous: int | None = None
    try:
        for item in resources:
            key, sep, value = item.removeprefix(_PREFIX).partition("=") if isinstance(item, str) else ("", "", "")
            if not sep or not item.startswith(_PREFIX):
                continue  # a resource someone else added (an ARN): not ours
            if key.startswith(_PREVIOUS):
                if key.removeprefix(_PREVIOUS) == consumer:
                    previous = int(value)
                continue
            name, decoded = _decode_resource(key, value)
            attributes[name] = decoded
    except ValueError as exc:
        raise EventDecodeError(f"a ce: resource does not decode: {exc}") from None
    if "id" not in attributes or "specversion" not in attributes:
        raise EventDecodeError("no ce:id and ce:specversion resources: not an event the relay published")
    for name, field in (("source", "source"), ("type", "detail-type"), ("data", "detail")):
        if field not in event:
            raise EventDecodeError(f"an EventBridge event has a {field!r}")
        attributes[name] = event[field]
    attributes.setdefault("time", event.get("time"))
    envelope = {name: value for name, value in attributes.items() if name not in _KNOWN}
    envelope.update((name, attributes[name]) for name in _ENVELOPE_ORDER if attributes.get(name) is not None)
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False), previous


def sqs_message(envelope_json: str, previous: int | None) -> dict[str, Any]:
    """A direct SQS message: the envelope as the body, the previous sequence as a Number attribute if known."""
    message: dict[str, Any] = {"MessageBody": envelope_json}
    if previous is not None:
        message["MessageAttributes"] = {"previous": {"DataType": "Number", "StringValue": str(previous)}}
    return message


def _previous_attribute(attributes: Mapping[str, Any]) -> int | None:
    attribute = attributes.get("previous")
    if not isinstance(attribute, Mapping):
        return None
    # boto3's ReceiveMessage says StringValue; a Lambda SQS event record says stringValue.
    value = attribute.get("StringValue", attribute.get("stringValue"))
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def decode_sqs_message(body: str, attributes: Mapping[str, Any], consumer: str) -> tuple[str, int | None]:
    """The envelope JSON and previous sequence of an SQS message, sent directly or by an EventBridge rule.

    Anything else comes back unchanged (previous None): the inbox then dead-letters it as malformed.
    """
    try:
        raw = json.loads(body)
    except ValueError:
        return body, None
    if not isinstance(raw, dict):
        return body, None
    if "specversion" in raw:
        return body, _previous_attribute(attributes)
    if "detail-type" in raw and "detail" in raw:
        try:
            return from_eventbridge_event(raw, consumer)
        except EventDecodeError:
            return body, None
    return body, None
