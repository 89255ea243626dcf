"""Celery task messages (protocol 2) built directly, for the relay's hot path.

Building each message through Celery or kombu costs ~0.5 ms of Python per event (DESIGN.md, "Measured on this
kind of machine"), which caps a relay near 2,000 events/s. The message here is the same one Celery's
``app.amqp.as_task_v2`` produces for ``events.deliver(consumer, envelope)``; a test checks a real Celery worker
consumes it.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from typing import Any

TASK_NAME = "events.deliver"
_ORIGIN = f"{os.getpid()}@{socket.gethostname()}"
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def task_body(consumer: str, envelope: str, previous: int | None) -> bytes:
    return json.dumps([[consumer, envelope, previous], {}, _EMBED], separators=(",", ":")).encode()


def task_headers(task_id: str, argsrepr: str) -> dict[str, Any]:
    return {
        "lang": "py", "task": TASK_NAME, "id": task_id, "shadow": None, "eta": None, "expires": None, "group": None,
        "group_index": None, "retries": 0, "timelimit": [None, None], "root_id": task_id, "parent_id": None,
        "argsrepr": argsrepr, "kwargsrepr": "{}", "origin": _ORIGIN, "ignore_result": True,
    }  # fmt: skip


# The constant parts of a kombu Redis message, laid out once; per message only the ids, argsrepr and body vary.
_HEADERS = (
    '"headers":{{"lang":"py","task":"' + TASK_NAME + '","id":"{id}","shadow":null,"eta":null,"expires":null,'
    '"group":null,"group_index":null,"retries":0,"timelimit":[null,null],"root_id":"{id}","parent_id":null,'
    '"argsrepr":{argsrepr},"kwargsrepr":"{{}}","origin":' + json.dumps(_ORIGIN) + ',"ignore_result":true}}'
)
_PROPERTIES = (
    '"properties":{{"correlation_id":"{id}","reply_to":"","delivery_mode":2,'
    '"delivery_info":{{"exchange":"","routing_key":{queue}}},"priority":0,"body_encoding":"base64",'
    '"delivery_tag":"{id}"}}'
)
_FRAME = (
    '{{"body":"{body}","content-encoding":"utf-8","content-type":"application/json",'
    + _HEADERS
    + ","
    + _PROPERTIES
    + "}}"
)
_EMBED_JSON = json.dumps(_EMBED, separators=(",", ":"))


# json's own C string encoder: what json.dumps(str) runs, without its per-call Python overhead.
_string = json.encoder.encode_basestring_ascii


def redis_frame(queue: str, consumer: str, envelope: str, event_id: str, previous: int | None) -> bytes:
    """What kombu's Redis transport LPUSHes onto the queue's list for this task.

    Equal, as JSON, to building the message dict and ``json.dumps``-ing it (a unit test checks), at a quarter of
    the cost: the relay's throughput is bound by this function.
    """
    task_id = os.urandom(16).hex()  # a random 128-bit id in UUID hex form; str(uuid4()) costs five times more
    previous_json = "null" if previous is None else str(int(previous))
    body = f"[[{_string(consumer)},{_string(envelope)},{previous_json}],{{}},{_EMBED_JSON}]"
    return _FRAME.format(
        body=base64.b64encode(body.encode()).decode(), id=task_id, queue=_string(queue),
        argsrepr=_string(f"({consumer!r}, <event {event_id}>)"),
    ).encode()  # fmt: skip
