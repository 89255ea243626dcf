"""Helpers for relay tests: a unique Redis queue prefix, publishing, reading Celery frames back."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import redis
from django.db import transaction

from events.conf import get_config
from events.envelope import Envelope
from events.outbox import publish
from events.relay import Relay
from events.router import Router, parse_rules

REDIS_URL = "redis://127.0.0.1:6379/0"
STATUS = {"order.placed": "pending", "order.confirmed": "confirmed", "order.cancelled": "cancelled"}

RULES = """
rules:
  - name: ledger-gets-stock
    pattern: {"detail-type": [{"prefix": "stock."}]}
    targets: [{queue: ledger}]
  - name: reporting-gets-confirmations
    pattern: {"detail-type": ["order.confirmed", "order.cancelled"]}
    targets: [{queue: reporting}]
"""


def make_relay(prefix: str, name: str = "relay-a", broker_url: str = REDIS_URL, **overrides: Any) -> Relay:
    config = replace(
        get_config(), broker_url=broker_url, broker_options={}, queue_prefix=prefix, heartbeat_seconds=0.0,
        batch_size=overrides.pop("batch_size", 100), **overrides,
    )  # fmt: skip
    return Relay(config=config, name=name, router=Router(parse_rules(RULES)))


def adjust(aggregate: str, delta: int = 1) -> Envelope:
    with transaction.atomic():
        return publish(
            type="stock.adjusted", source="tests", aggregate_type="stock", aggregate_id=aggregate,
            data={"warehouse": "A", "sku": "MUG", "delta": delta, "reason": "count", "levels": []},
        )  # fmt: skip


def order_event(order_id: str, event_type: str) -> Envelope:
    line = {"sku": "MUG", "name": "Mug", "unit_price": "1.00", "quantity": 1, "line_total": "1.00"}
    data = {
        "order_id": order_id, "customer_id": 1, "status": STATUS[event_type], "currency": "EUR",
        "total": "1.00", "lines": [line], "reservation_id": None, "payment_id": None,
    }  # fmt: skip
    if event_type == "order.cancelled":
        data["reason"] = ""
    with transaction.atomic():
        return publish(type=event_type, source="tests", aggregate_type="order", aggregate_id=order_id, data=data)


def frames(prefix: str, consumer: str) -> list[tuple[str, dict[str, Any], int | None]]:
    """What a worker would receive from ``consumer``'s queue, oldest first: (consumer, envelope, previous)."""
    client = redis.Redis.from_url(REDIS_URL)
    out = []
    for raw in reversed(client.lrange(prefix + consumer, 0, -1)):  # LPUSH puts the newest first
        message = json.loads(raw)
        (name, envelope, previous), kwargs, _ = json.loads(base64.b64decode(message["body"]))
        assert message["headers"]["task"] == "events.deliver" and kwargs == {}
        out.append((name, json.loads(envelope), previous))
    return out
