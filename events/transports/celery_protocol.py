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
import uuid
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


def redis_frame(queue: str, consumer: str, envelope: str, event_id: str, previous: int | None) -> bytes:
    """What kombu's Redis transport LPUSHes onto the queue's list for this task."""
    task_id = str(uuid.uuid4())
    message = {
        "body": base64.b64encode(task_body(consumer, envelope, previous)).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": task_headers(task_id, f"({consumer!r}, <event {event_id}>)"),
        "properties": {
            "correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0, "body_encoding": "base64",
            "delivery_tag": task_id,
        },
    }  # fmt: skip
    return json.dumps(message, separators=(",", ":")).encode()
