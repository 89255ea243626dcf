"""Receiving an event: once per consumer, in per-aggregate order, dead-lettered when it cannot be handled.

::

    outcome = receive(consumer="reporting", body=envelope_json, attempt=1)
    if outcome.retry_in is not None: ...   # ask the broker to redeliver later (Celery retry, SQS visibility)

Everything happens in one transaction of the consumer's database: the position row of the event's aggregate
is locked, so concurrent workers take an aggregate's events one at a time; the handler's effects, the inbox
entry and the new position commit together, so a redelivery finds the entry and has no second effect. An event
that arrives early waits (is retried) until its predecessors are applied; a gap that does not fill within
``gap_timeout_seconds`` is dead-lettered with an alert and the aggregate moves on. An event the consumer never
received but whose sequence is within the snapshot its position was seeded from (``seed_position``) is recorded
as ``covered``: nothing is dead-lettered, and only the consumer's ``covered:<type>`` handlers run (for records of
other aggregates the event carries, which the snapshot may have read before it).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from prometheus_client import Counter

from events.catalogue import Catalogue, SchemaViolation, UnknownEventType, parse_uri
from events.conf import EventsConfig, get_config
from events.envelope import Envelope, EnvelopeError
from events.handlers import COVERED_PREFIX, HandlerTable, handler_table
from events.models import ConsumerPosition, DeadLetter, InboxEntry
from events.positions import lock_position
from events.positions import seed_position as seed_position  # the contract names it here too

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
    kind: str  # handled | ignored | covered | duplicate | waiting | retry | dead
    retry_in: float | None = None


def _waiting_backoff(attempt: int) -> float:
    # An early event's predecessor is usually a message or two behind it (another worker's prefetch): look again
    # soon — 50-100 ms, doubling to at most 1 s — so a replica catching up (a cut-over waits on it) is not slowed
    # by the failure backoff below.
    ceiling = min(1.0, 0.05 * 2 ** min(attempt, 5))
    return random.uniform(ceiling / 2, ceiling)


def _backoff(attempt: int) -> float:
    # Capped below the visibility timeout: a retry waiting longer would be handed out again meanwhile.
    ceiling = min(30.0, 0.2 * 2 ** min(attempt, 12))
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
    with transaction.atomic():
        position = lock_position(d.consumer, envelope.aggregatetype, envelope.subject)
        if envelope.sequence <= position.last_sequence:
            if InboxEntry.objects.filter(consumer=d.consumer, event_id=envelope.id).exists():
                return Outcome("duplicate")
            if envelope.sequence <= position.baseline:
                # Never delivered here, but the snapshot the position was seeded from already contains it.
                return _cover(d, handlers, config)
            # Never applied, yet its aggregate has moved past it: it arrived after its gap was given up on.
            error = f"arrived after {envelope.aggregatetype}/{envelope.subject} moved on to {position.last_sequence}"
            dead_letter(d.consumer, d.body, DeadLetter.Reason.LATE, error, d.attempt, envelope)
            return Outcome("dead")
        expected = envelope.sequence - 1 if d.previous is None else d.previous
        early = expected > position.last_sequence and d.previous is not None
        if early and not _gap_expired(position, d, config):
            return Outcome("waiting", retry_in=_waiting_backoff(d.attempt))
        return _apply(d, handlers, config, position)


def _cover(d: _Delivery, handlers: HandlerTable, config: EventsConfig) -> Outcome:
    """Record an event the snapshot covers. Its own aggregate is in the snapshot, but an event may also carry
    records of other aggregates that a snapshot read at another moment may lack (a reservation's event carries
    the stock levels it moved): the consumer's ``covered:<type>`` handlers, if any, apply those, guarded by the
    records' own versions."""
    envelope = d.envelope
    try:
        with transaction.atomic():
            for handler in handlers.for_event(d.consumer, COVERED_PREFIX + envelope.type):
                handler(envelope)
    except Exception as exc:
        if d.attempt < config.max_attempts:
            logger.warning("%s failed on covered %s (attempt %d): %s", d.consumer, envelope.type, d.attempt, exc)
            return Outcome("retry", retry_in=_backoff(d.attempt))
        dead_letter(d.consumer, d.body, DeadLetter.Reason.HANDLER_FAILED, f"{type(exc).__name__}: {exc}", d.attempt,
                    envelope)  # fmt: skip
    _record(d, InboxEntry.Outcome.COVERED)
    return Outcome("covered")


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
                # Undo this attempt's writes too (a gap dead letter just recorded): the retry will record it again.
                transaction.set_rollback(True)
                return Outcome("retry", retry_in=_backoff(d.attempt))
            error = f"{type(exc).__name__}: {exc}"
            dead_letter(d.consumer, d.body, DeadLetter.Reason.HANDLER_FAILED, error, d.attempt, envelope)
            outcome = InboxEntry.Outcome.DEAD
    try:
        with transaction.atomic():
            _record(d, outcome)
    except IntegrityError:
        # Already recorded (a position reset for a rebuild, then a redelivery): undo this run's effects.
        transaction.set_rollback(True)
        return Outcome("duplicate")
    position.last_sequence = envelope.sequence
    position.waiting_since = None
    position.save(update_fields=["last_sequence", "waiting_since"])
    return Outcome("dead" if outcome == InboxEntry.Outcome.DEAD else str(outcome))


def _record(d: _Delivery, outcome: str) -> None:
    envelope = d.envelope
    InboxEntry.objects.create(
        consumer=d.consumer, event_id=envelope.id, event_type=envelope.type, sequence=envelope.sequence,
        aggregate_type=envelope.aggregatetype, aggregate_id=envelope.subject, outcome=outcome,
    )  # fmt: skip
