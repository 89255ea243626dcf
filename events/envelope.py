"""The CloudEvents 1.0 envelope (structured JSON mode) every event travels in.

::

    envelope = Envelope.new(
        type="order.placed", source="monolith/orders", subject=str(order.id), data={...},
        dataschema=schema_uri("order.placed", 1), aggregatetype="order", sequence=1,
    )
    wire = envelope.to_json()            # bytes, what brokers carry
    Envelope.from_json(wire) == envelope

Required attributes are checked here, not left to an SDK (the Python CloudEvents SDK fills in a missing ``id``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from events.aws.codec import cloudevent_resources

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_REQUIRED = (
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "dataschema",
    "data",
    "aggregatetype",
    "sequence",
)


class EnvelopeError(ValueError):
    """A message is not a valid envelope: missing or malformed attributes, or not JSON at all."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, kw_only=True)
class Envelope:
    id: str
    source: str
    type: str
    time: str
    subject: str
    dataschema: str
    data: Any
    aggregatetype: str
    sequence: int
    correlationid: str
    causationid: str | None = None
    specversion: str = SPECVERSION
    datacontenttype: str = CONTENT_TYPE
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        *,
        type: str,
        source: str,
        subject: str,
        data: Any,
        dataschema: str,
        aggregatetype: str,
        sequence: int,
        correlationid: str | None = None,
        causationid: str | None = None,
    ) -> Envelope:
        event_id = str(uuid.uuid4())
        envelope = cls(
            id=event_id, source=source, type=type, time=_now(), subject=subject, dataschema=dataschema, data=data,
            aggregatetype=aggregatetype, sequence=sequence, correlationid=correlationid or event_id,
            causationid=causationid,
        )  # fmt: skip
        envelope.check()
        return envelope

    def check(self) -> None:
        if self.specversion != SPECVERSION:
            raise EnvelopeError(f"specversion must be {SPECVERSION}, got {self.specversion!r}")
        if not _TYPE.match(self.type):
            raise EnvelopeError(f"type {self.type!r} must look like 'order.placed'")
        for name in ("id", "source", "subject", "dataschema", "aggregatetype", "correlationid"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise EnvelopeError(f"{name} must be a non-empty string")
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int) or self.sequence < 1:
            raise EnvelopeError("sequence must be an integer from 1")
        try:
            datetime.fromisoformat(self.time)
        except (TypeError, ValueError):
            raise EnvelopeError(f"time {self.time!r} is not an RFC 3339 timestamp") from None

    def to_dict(self) -> dict[str, Any]:
        body = {k: v for k, v in asdict(self).items() if k != "extra" and v is not None}
        return {**self.extra, **body}

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Envelope:
        missing = [name for name in _REQUIRED if name not in raw]
        if missing:
            raise EnvelopeError("missing attributes: " + ", ".join(missing))
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        fields = {k: v for k, v in raw.items() if k in known}
        fields.setdefault("correlationid", raw["id"])
        envelope = cls(**fields, extra={k: v for k, v in raw.items() if k not in known})
        envelope.check()
        return envelope

    @classmethod
    def from_json(cls, wire: bytes | str) -> Envelope:
        try:
            raw = json.loads(wire)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EnvelopeError(f"not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise EnvelopeError("an envelope is a JSON object")
        return cls.from_dict(raw)

    def eventbridge_view(self) -> dict[str, Any]:
        return eventbridge_view(self.to_dict())


def eventbridge_view(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """An envelope (as parsed JSON) as EventBridge patterns see it: ``detail-type`` is the type, ``detail`` the data.

    ``resources`` lists the other CloudEvents attributes as AWS will see them (``events.aws.codec``), so a
    pattern on ``resources`` routes the same locally and on EventBridge.
    """
    return {
        "version": "0", "id": envelope["id"], "source": envelope["source"], "detail-type": envelope["type"],
        "time": envelope["time"], "resources": cloudevent_resources(envelope, {}), "account": "", "region": "",
        "detail": envelope["data"],
    }  # fmt: skip
