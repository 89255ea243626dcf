"""Receiving an event: once per consumer, in per-aggregate order, dead-lettered when it cannot be handled.

::

    outcome = receive(consumer="reporting", body=envelope_json, attempt=1)
    if outcome.retry_in is not None: ...   # ask the broker to redeliver later (Celery retry, SQS visibility)

Everything happens in one transaction of the consumer's database: the position row of the event's aggregate
is locked, so concurrent workers take an aggregate's events one at a time; the handler's effects, the inbox
entry and the new position commit together, so a redelivery finds the entry and has no second effect. An event
that arrives early waits (is retried) until its predecessors are applied; a gap that does not fill within
``gap_timeout_seconds`` is dead-lettered with an alert and the aggregate moves on.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from prometheus_client import Counter

from events.catalogue import Catalogue, SchemaViolation, UnknownEventType, parse_uri
from events.conf import EventsConfig, get_config
from events.envelope import Envelope, EnvelopeError
from events.handlers import HandlerTable, handler_table
from events.models import ConsumerPosition, DeadLetter, InboxEntry

logger = logging.getLogger("events.inbox")
OUTCOMES = Counter("events_consumer_outcomes", "Deliveries by consumer and outcome", ["consumer", "outcome"])


@dataclass(frozen=True)
class _Delivery:
    consumer: str
    body: str
    envelope: Envelope
    attempt: int
    previous: int | None  # the aggregate's previous sequence routed to this consumer; None when unknown


@dataclass(frozen=True)
class Outcome:
    kind: str  # handled | ignored | duplicate | waiting | retry | dead
    retry_in: float | None = None


def _backoff(attempt: int) -> float:
    ceiling = min(60.0, 0.2 * 2 ** min(attempt, 12))
    return random.uniform(ceiling / 2, ceiling)


def dead_letter(consumer: str, body: str, reason: str, error: str, attempts: int, envelope: Envelope | None) -> None:
    DeadLetter.objects.create(
        consumer=consumer, body=body, reason=reason, error=error[:10_000], attempts=attempts,
        event_id=envelope.id if envelope else None, event_type=envelope.type if envelope else "",
        aggregate_type=envelope.aggregatetype if envelope else "", aggregate_id=envelope.subject if envelope else "",
        sequence=envelope.sequence if envelope else None,
    )  # fmt: skip
    log = logger.error if reason == DeadLetter.Reason.SEQUENCE_GAP else logger.warning
    log("dead letter for %s: %s %s (%s): %s", consumer, envelope.type if envelope else "?", reason, attempts, error)


def receive(
    *,
    consumer: str,
    body: str,
    attempt: int = 1,
    previous: int | None = None,
    handlers: HandlerTable | None = None,
    config: EventsConfig | None = None,
) -> Outcome:
    config = config or get_config()
    try:
        envelope = Envelope.from_json(body)
    except EnvelopeError as exc:
        with transaction.atomic():
            dead_letter(consumer, body, DeadLetter.Reason.MALFORMED, str(exc), attempt, None)
        return _count(consumer, Outcome("dead"))
    delivery = _Delivery(consumer, body, envelope, attempt, previous)
    return _count(consumer, _receive_ordered(delivery, handlers or handler_table(), config))


def _count(consumer: str, outcome: Outcome) -> Outcome:
    OUTCOMES.labels(consumer, outcome.kind).inc()
    return outcome


def _receive_ordered(d: _Delivery, handlers: HandlerTable, config: EventsConfig) -> Outcome:
    envelope = d.envelope
    key: dict[str, Any] = {
        "consumer": d.consumer,
        "aggregate_type": envelope.aggregatetype,
        "aggregate_id": envelope.subject,
    }
    with transaction.atomic():
        ConsumerPosition.objects.get_or_create(**key)
        position = ConsumerPosition.objects.select_for_update().get(**key)
        if (
            envelope.sequence <= position.last_sequence
            or InboxEntry.objects.filter(consumer=d.consumer, event_id=envelope.id).exists()
        ):
            return Outcome("duplicate")
        expected = envelope.sequence - 1 if d.previous is None else d.previous
        early = expected > position.last_sequence and d.previous is not None
        if early and not _gap_expired(position, d, config):
            return Outcome("waiting", retry_in=_backoff(min(d.attempt, 4)))
        return _apply(d, handlers, config, position)


def _gap_expired(position: ConsumerPosition, d: _Delivery, config: EventsConfig) -> bool:
    now = timezone.now()
    if position.waiting_since is None:
        position.waiting_since = now
        position.save(update_fields=["waiting_since"])
        return False
    if now - position.waiting_since < timedelta(seconds=config.gap_timeout_seconds):
        return False
    envelope = d.envelope
    dead_letter(
        d.consumer, d.body, DeadLetter.Reason.SEQUENCE_GAP,
        f"event {d.previous} of {envelope.aggregatetype}/{envelope.subject} never arrived (last applied: "
        f"{position.last_sequence}); moved on to {envelope.sequence}", 1, envelope,
    )  # fmt: skip
    return True


def _apply(d: _Delivery, handlers: HandlerTable, config: EventsConfig, position: ConsumerPosition) -> Outcome:
    envelope, outcome = d.envelope, InboxEntry.Outcome.HANDLED
    try:
        Catalogue.default().validate(*parse_uri(envelope.dataschema), envelope.data)
    except (SchemaViolation, UnknownEventType) as exc:
        dead_letter(d.consumer, d.body, DeadLetter.Reason.SCHEMA_INVALID, str(exc), d.attempt, envelope)
        outcome = InboxEntry.Outcome.DEAD
    else:
        chosen = handlers.for_event(d.consumer, envelope.type)
        if not chosen:
            outcome = InboxEntry.Outcome.IGNORED
        try:
            with transaction.atomic():
                for handler in chosen:
                    handler(envelope)
        except Exception as exc:  # a handler's bug or a dependency's outage: retry, then dead-letter
            if d.attempt < config.max_attempts:
                logger.warning("%s failed on %s (attempt %d): %s", d.consumer, envelope.type, d.attempt, exc)
                return Outcome("retry", retry_in=_backoff(d.attempt))
            error = f"{type(exc).__name__}: {exc}"
            dead_letter(d.consumer, d.body, DeadLetter.Reason.HANDLER_FAILED, error, d.attempt, envelope)
            outcome = InboxEntry.Outcome.DEAD
    InboxEntry.objects.create(
        consumer=d.consumer, event_id=envelope.id, event_type=envelope.type, aggregate_type=envelope.aggregatetype,
        aggregate_id=envelope.subject, sequence=envelope.sequence, outcome=outcome,
    )  # fmt: skip
    position.last_sequence = envelope.sequence
    position.waiting_since = None
    position.save(update_fields=["last_sequence", "waiting_since"])
    return Outcome("dead" if outcome == InboxEntry.Outcome.DEAD else str(outcome))
