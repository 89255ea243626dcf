"""Consuming an SQS queue into the inbox: long polls, one ``receive`` per message, then delete or delay.

::

    consumer = SqsConsumer(queue_url=url, consumer="reporting")
    consumer.run()            # until stop(); the batch in hand is always finished first
    consumer.poll()           # or one receive round: what happened to its messages

A message whose outcome is final (handled, duplicate, ignored, dead) is deleted; one the inbox wants later
(waiting for its predecessor, or a handler failure to retry) is hidden for the inbox's backoff with
ChangeMessageVisibility, so SQS hands it out again then, with ApproximateReceiveCount as the attempt number. A
crash that escapes the inbox (the database is down) leaves the message alone: it returns after the queue's
visibility timeout. Messages sent directly and messages an EventBridge rule delivered are both understood.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connections

from events.aws.codec import decode_sqs_message
from events.inbox import Outcome, receive

logger = logging.getLogger("events.consume")

MAX_VISIBILITY_SECONDS = 43_200  # SQS's ceiling for ChangeMessageVisibility


def drop_stale_connections() -> None:
    """Close broken or outlived database connections between batches, as Celery does between tasks.

    A connection inside a caller's transaction (a test's) is left alone: closing it would break that transaction.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def receive_sqs_message(*, consumer: str, body: str, attributes: Mapping[str, Any], attempt: int) -> Outcome:
    """Run one SQS message (direct or from an EventBridge rule) through the inbox as ``consumer``."""
    envelope, previous = decode_sqs_message(body, attributes, consumer)
    return receive(consumer=consumer, body=envelope, attempt=attempt, previous=previous)


@dataclass
class ConsumeStats:
    received: int = 0
    deleted: int = 0
    delayed: int = 0
    crashed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, other: ConsumeStats) -> None:
        self.received += other.received
        self.deleted += other.deleted
        self.delayed += other.delayed
        self.crashed += other.crashed
        for kind, count in other.outcomes.items():
            self.outcomes[kind] = self.outcomes.get(kind, 0) + count

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.outcomes.items()))
        crashed = f", {self.crashed} left for redelivery after a crash" if self.crashed else ""
        return f"{self.received} messages ({kinds or 'none'}): {self.deleted} deleted, {self.delayed} delayed{crashed}"


class SqsConsumer:
    """Long-polls one queue for one consumer; ``stop()`` (from a signal handler) ends ``run()`` after the batch."""

    def __init__(
        self,
        *,
        queue_url: str,
        consumer: str,
        client: Any,
        wait_seconds: int = 20,
        visibility_timeout: int | None = None,
        max_messages: int = 10,
        error_backoff_seconds: float = 1.0,
    ) -> None:
        self.queue_url, self.consumer, self.client = queue_url, consumer, client
        self.wait_seconds, self.visibility_timeout, self.max_messages = wait_seconds, visibility_timeout, max_messages
        self.error_backoff_seconds = error_backoff_seconds
        self.busy = False  # a batch is in hand: it must be finished before stopping
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, once: bool = False) -> ConsumeStats:
        """Poll until stopped (or one round with ``once``); SQS errors are logged and retried with backoff."""
        total, failures = ConsumeStats(), 0
        while not self._stop.is_set():
            drop_stale_connections()
            try:
                total.add(self.poll())
                failures = 0
            except Exception as exc:
                if once:
                    raise
                failures += 1
                delay = min(30.0, self.error_backoff_seconds * 2 ** min(failures - 1, 5))
                logger.warning("receiving from %s failed (%s); trying again in %.0fs", self.queue_url, exc, delay)
                self._stop.wait(delay)
            if once:
                break
        return total

    def poll(self) -> ConsumeStats:
        """One ReceiveMessage long poll and everything its messages need: inbox, then delete or delay."""
        kwargs: dict[str, Any] = {
            "QueueUrl": self.queue_url, "MaxNumberOfMessages": self.max_messages, "WaitTimeSeconds": self.wait_seconds,
            "MessageAttributeNames": ["All"], "AttributeNames": ["ApproximateReceiveCount"],
        }  # fmt: skip
        if self.visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = self.visibility_timeout
        messages = self.client.receive_message(**kwargs).get("Messages", [])
        self.busy = True
        try:
            return self._handle(messages)
        finally:
            self.busy = False

    def _handle(self, messages: list[dict[str, Any]]) -> ConsumeStats:
        stats = ConsumeStats(received=len(messages))
        if not messages:
            return stats
        deletes: list[dict[str, str]] = []
        delays: list[dict[str, Any]] = []
        for index, message in enumerate(messages):
            outcome = self._receive(message)
            if outcome is None:
                stats.crashed += 1
                continue
            stats.outcomes[outcome.kind] = stats.outcomes.get(outcome.kind, 0) + 1
            entry = {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            if outcome.retry_in is None:
                deletes.append(entry)
            else:
                seconds = min(MAX_VISIBILITY_SECONDS, max(0, math.ceil(outcome.retry_in)))
                delays.append({**entry, "VisibilityTimeout": seconds})
        stats.deleted = self._batch("delete_message_batch", deletes)
        stats.delayed = self._batch("change_message_visibility_batch", delays)
        logger.info("%s from %s: %s", self.consumer, self.queue_url, stats.summary())
        return stats

    def _receive(self, message: dict[str, Any]) -> Outcome | None:
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            outcome = receive_sqs_message(
                consumer=self.consumer, body=message.get("Body", ""), attempt=attempt,
                attributes=message.get("MessageAttributes", {}),
            )  # fmt: skip
        except Exception:
            logger.exception("message %s (attempt %d) crashed; SQS will redeliver it", message["MessageId"], attempt)
            return None
        later = f", again in {math.ceil(outcome.retry_in)}s" if outcome.retry_in is not None else ""
        logger.info("message %s (attempt %d): %s%s", message["MessageId"], attempt, outcome.kind, later)
        return outcome

    def _batch(self, operation: str, entries: list[dict[str, Any]]) -> int:
        if not entries:
            return 0
        response = getattr(self.client, operation)(QueueUrl=self.queue_url, Entries=entries)
        for failed in response.get("Failed", []):
            # Not fatal: an undeleted message comes back and the inbox finds it a duplicate.
            logger.error("%s refused entry %s: %s %s", operation, failed.get("Id"), failed.get("Code"),
                         failed.get("Message"))  # fmt: skip
        return len(response.get("Successful", []))
