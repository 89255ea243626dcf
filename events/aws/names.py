"""Valid names of the AWS targets a rules file may name: SQS queues (name or URL) and EventBridge buses (name or ARN).

::

    sqs_queue_problem("orders-audit")                     # None: valid
    sqs_queue_name("https://sqs.eu-west-1.amazonaws.com/123456789012/orders-audit")  # "orders-audit"
    event_bus_problem("arn:aws:events:eu-west-1:123456789012:event-bus/shop")         # None: valid
"""

from __future__ import annotations

import re

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_QUEUE_URL = re.compile(r"^https?://[A-Za-z0-9.:-]+/[0-9]{12}/(?P<name>[^/]+)$")
_BUS_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,256}$")
_BUS_ARN = re.compile(r"^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/(?P<name>[A-Za-z0-9._/-]{1,256})$")


def sqs_queue_name(target: str) -> str:
    """The queue's name, whether ``target`` is its name or its URL."""
    match = _QUEUE_URL.match(target)
    return match["name"] if match else target


def is_queue_url(target: str) -> bool:
    return _QUEUE_URL.match(target) is not None


def sqs_queue_problem(target: str, *, allow_http: bool = False) -> str | None:
    """Why ``target`` is not an SQS queue name or URL (None when it is one)."""
    if target.startswith("http://") and not allow_http:
        return f"SQS queue URL {target!r} must use https"
    name = sqs_queue_name(target)
    if target.startswith(("http://", "https://")) and not is_queue_url(target):
        return f"{target!r} is not an SQS queue URL (https://<host>/<12-digit account>/<queue name>)"
    stem = name.removesuffix(".fifo")
    if not _QUEUE_NAME.match(stem) or len(name) > 80:
        return f"SQS queue name {name!r} must be 1-80 letters, digits, '-' or '_' (and may end in '.fifo')"
    return None


def event_bus_problem(target: str) -> str | None:
    """Why ``target`` is not an EventBridge bus name or ARN (None when it is one)."""
    if target.startswith("arn:"):
        return None if _BUS_ARN.match(target) else f"{target!r} is not an event bus ARN"
    if not _BUS_NAME.match(target):
        return f"event bus name {target!r} must be 1-256 letters, digits, '.', '-', '_' or '/'"
    return None


def event_bus_name(target: str) -> str:
    """The bus's name, whether ``target`` is its name or its ARN."""
    match = _BUS_ARN.match(target)
    return match["name"] if match else target
