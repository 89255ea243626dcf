from __future__ import annotations

import json

import pytest
from cloudevents.core.formats.json import JSONFormat

from events.envelope import Envelope, EnvelopeError


def make(**overrides: object) -> Envelope:
    fields: dict = dict(  # type: ignore[type-arg]
        type="order.placed", source="monolith/orders", subject="o-1", data={"order_id": "o-1"},
        dataschema="urn:strangler:event:order.placed:1", aggregatetype="order", sequence=1,
    )  # fmt: skip
    fields.update(overrides)
    return Envelope.new(**fields)


def test_wire_form_is_cloudevents_structured_json_with_our_extensions() -> None:
    envelope = make(correlationid="c-1", causationid="e-0")
    wire = json.loads(envelope.to_json())
    assert wire["specversion"] == "1.0"
    assert wire["datacontenttype"] == "application/json"
    assert wire["time"].endswith("Z")
    assert {k: wire[k] for k in ("aggregatetype", "sequence", "correlationid", "causationid")} == {
        "aggregatetype": "order",
        "sequence": 1,
        "correlationid": "c-1",
        "causationid": "e-0",
    }


def test_the_cloudevents_sdk_accepts_and_round_trips_it() -> None:
    envelope = make()
    event = JSONFormat().read(None, envelope.to_json())
    attributes = event.get_attributes()
    for name in ("id", "source", "type", "subject", "dataschema", "aggregatetype", "sequence", "correlationid"):
        assert attributes[name] == getattr(envelope, name), name
    assert event.get_data() == envelope.data
    assert Envelope.from_json(JSONFormat().write(event)) == envelope


def test_correlation_defaults_to_the_event_itself() -> None:
    envelope = make()
    assert envelope.correlationid == envelope.id


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"type": "OrderPlaced"}, "type"),
        ({"sequence": 0}, "sequence"),
        ({"sequence": True}, "sequence"),
        ({"subject": ""}, "subject"),
        ({"source": ""}, "source"),
    ],
)
def test_bad_attributes_are_refused(overrides: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(EnvelopeError, match=message):
        make(**overrides)


@pytest.mark.parametrize(
    "wire",
    [b"not json", b"[]", b"\xff\xfe", json.dumps({"specversion": "1.0", "type": "a.b"}).encode()],
)
def test_malformed_messages_are_envelope_errors(wire: bytes) -> None:
    with pytest.raises(EnvelopeError):
        Envelope.from_json(wire)


def test_missing_id_is_refused_rather_than_invented() -> None:
    raw = make().to_dict()
    del raw["id"]
    with pytest.raises(EnvelopeError, match="id"):
        Envelope.from_dict(raw)


def test_unknown_extensions_survive_a_round_trip() -> None:
    raw = {**make().to_dict(), "traceparent": "00-abc-def-01"}
    assert Envelope.from_dict(raw).to_dict()["traceparent"] == "00-abc-def-01"


def test_eventbridge_view_maps_type_and_data() -> None:
    view = make().eventbridge_view()
    assert view["detail-type"] == "order.placed"
    assert view["detail"] == {"order_id": "o-1"}
    assert view["source"] == "monolith/orders"
