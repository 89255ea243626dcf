"""AWS Lambda handlers for a consumer: SQS event-source batches, or one event EventBridge invokes directly.

::

    # myproject/lambda_reporting.py; the function's environment sets DJANGO_SETTINGS_MODULE and the database
    from events.aws_lambda import sqs_handler

    handler = sqs_handler("reporting")          # Lambda handler setting: myproject.lambda_reporting.handler

SQS: turn on ``ReportBatchItemFailures`` in the event source mapping. Records listed in ``batchItemFailures``
(waiting for a predecessor, a handler failure to retry, a crash) come back after the queue's visibility timeout,
with ApproximateReceiveCount as the attempt; the others are deleted. On a FIFO queue, processing stops at the first
failure and every later record is reported too, as Lambda requires to keep the group's order.

EventBridge, invoking the function directly: the handler returns the outcome, or raises ``RetryLater`` so that
Lambda's asynchronous retries (and its on-failure destination) take over. Attempts are not counted there, so the
inbox never gives up on a failing handler by itself: bound it with the function's MaximumRetryAttempts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("events.lambda")

__all__ = ["RetryLater", "eventbridge_handler", "sqs_handler"]


class RetryLater(RuntimeError):
    """The inbox wants this event delivered again later (it is early, or its handler failed)."""


def _setup() -> None:
    from django.apps import apps

    if not apps.ready:
        import django

        django.setup()


def sqs_handler(consumer: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler running each record of an SQS batch through ``consumer``'s inbox."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _setup()
        from events.aws.sqs_consumer import drop_stale_connections, receive_sqs_message

        drop_stale_connections()  # a warm container keeps its connections between invocations
        failures: list[dict[str, str]] = []
        for record in event.get("Records", []):
            if failures and str(record.get("eventSourceARN", "")).endswith(".fifo"):
                failures.append({"itemIdentifier": record["messageId"]})
                continue
            attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            try:
                outcome = receive_sqs_message(
                    consumer=consumer, body=record.get("body", ""), attempt=attempt,
                    attributes=record.get("messageAttributes", {}),
                )  # fmt: skip
            except Exception:
                logger.exception("record %s (attempt %d) crashed; it will be redelivered", record["messageId"], attempt)
                failures.append({"itemIdentifier": record["messageId"]})
                continue
            logger.info("record %s (attempt %d): %s", record["messageId"], attempt, outcome.kind)
            if outcome.retry_in is not None:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    return handler


def eventbridge_handler(consumer: str) -> Callable[[dict[str, Any], Any], str]:
    """A Lambda handler for one EventBridge event delivered to ``consumer``; returns the outcome's kind."""

    def handler(event: dict[str, Any], context: Any) -> str:
        _setup()
        from events.aws.codec import EventDecodeError, from_eventbridge_event
        from events.aws.sqs_consumer import drop_stale_connections
        from events.inbox import receive

        drop_stale_connections()
        try:
            body, previous = from_eventbridge_event(event, consumer)
        except EventDecodeError:
            body, previous = json.dumps(event), None  # the inbox dead-letters it as malformed
        outcome = receive(consumer=consumer, body=body, previous=previous)
        logger.info("event %s: %s", event.get("id"), outcome.kind)
        if outcome.retry_in is not None:
            raise RetryLater(f"{consumer}: event {event.get('id')} is {outcome.kind}; deliver it again later")
        return outcome.kind

    return handler
