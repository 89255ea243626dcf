"""The relay's hand-built Celery frames are exactly the messages kombu's Redis transport would write."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from events.transports.celery_protocol import redis_frame, task_body, task_headers

ENVELOPES = [
    json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "data": {"sku": "MUG", "delta": 3}}),
    json.dumps({"id": "x", "data": {"name": 'Café "Noir" \\ ☕ \n', "emoji": "\U0001f600"}}, ensure_ascii=False),
]


@pytest.mark.parametrize("envelope", ENVELOPES)
@pytest.mark.parametrize("previous", [None, 0, 41])
def test_frame_equals_the_message_built_as_a_dict(envelope: str, previous: int | None) -> None:
    frame = json.loads(redis_frame("pre-ledger", "ledger", envelope, "e-1", previous))
    task_id = frame["headers"]["id"]

    assert frame == {
        "body": base64.b64encode(task_body("ledger", envelope, previous)).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": task_headers(task_id, "('ledger', <event e-1>)"),
        "properties": {
            "correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": "pre-ledger"}, "priority": 0,
            "body_encoding": "base64", "delivery_tag": task_id,
        },
    }  # fmt: skip
    args, kwargs, _ = json.loads(base64.b64decode(frame["body"]))
    assert (args, kwargs) == (["ledger", envelope, previous], {})
    assert uuid.UUID(task_id)  # a UUID in hex form, as Celery task ids are


def test_every_frame_has_its_own_task_id() -> None:
    ids = {json.loads(redis_frame("q", "c", ENVELOPES[0], "e", None))["headers"]["id"] for _ in range(1000)}
    assert len(ids) == 1000
