"""What an operator does with dead letters: list, inspect, replay through the consumer's handlers, discard.

::

    letters = dead_letters_list(consumer="reporting", reason="handler_failed", limit=20)
    for letter in dead_letters_get(ids=[12, 14]):   # raises DeadLetterError naming any unknown id
        dead_letter_check_replayable(letter)          # raises DeadLetterError saying why not
    dead_letter_replay(dead_letter_id=12)             # "handled" (or "ignored": no handler for the type now)
    dead_letters_discard(ids=[14])

Replaying runs the consumer's handlers for the dead event now, whatever its aggregate did since: it is applied
out of order, which is the operator's explicit choice. The handlers' effects, the inbox entry (now ``handled``)
and the dead letter's ``replayed_at`` commit together, so a replay cannot apply an event twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from events.catalogue import Catalogue, SchemaViolation, UnknownEventType, parse_uri
from events.envelope import Envelope, EnvelopeError
from events.handlers import HandlerTable, handler_table
from events.models import ConsumerPosition, DeadLetter, InboxEntry

__all__ = [
    "DeadLetterError",
    "dead_letter_check_replayable",
    "dead_letter_replay",
    "dead_letters_discard",
    "dead_letters_get",
    "dead_letters_list",
]


class DeadLetterError(Exception):
    """A dead letter does not exist or cannot be acted on; the message names it and the problem."""


def dead_letters_list(*, consumer: str | None = None, reason: str | None = None, limit: int = 50) -> list[DeadLetter]:
    """The newest dead letters first, optionally of one consumer and one reason."""
    letters = DeadLetter.objects.all()
    if consumer is not None:
        letters = letters.filter(consumer=consumer)
    if reason is not None:
        letters = letters.filter(reason=reason)
    return list(letters.order_by("-created_at", "-id")[:limit])


def dead_letters_get(*, ids: Sequence[int]) -> list[DeadLetter]:
    """The dead letters with ``ids``, in that order; raises ``DeadLetterError`` naming every id that is unknown."""
    found = DeadLetter.objects.in_bulk(list(ids))
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise DeadLetterError(f"no dead letter with id {', '.join(missing)}")
    return [found[i] for i in dict.fromkeys(ids)]


def dead_letter_check_replayable(letter: DeadLetter) -> Envelope:
    """The dead event, if replaying it makes sense now; otherwise ``DeadLetterError`` says why not."""
    if letter.replayed_at is not None:
        raise DeadLetterError(f"dead letter {letter.pk} was already replayed at {letter.replayed_at.isoformat()}")
    if letter.reason == DeadLetter.Reason.MALFORMED:
        raise DeadLetterError(
            f"dead letter {letter.pk} is malformed (its body is not an event) and cannot be replayed: "
            "inspect it with 'show', remove it with 'discard'"
        )
    if letter.reason == DeadLetter.Reason.SEQUENCE_GAP:
        raise DeadLetterError(
            f"dead letter {letter.pk} records a sequence gap: the event it carries was processed on its own and the "
            "missing one never arrived, so there is nothing to replay; discard it once the gap is dealt with"
        )
    try:
        envelope = Envelope.from_json(letter.body)
    except EnvelopeError as exc:
        raise DeadLetterError(f"dead letter {letter.pk}: body is not an event: {exc}") from None
    entry = InboxEntry.objects.filter(consumer=letter.consumer, event_id=envelope.id).first()
    if entry is not None and entry.outcome != InboxEntry.Outcome.DEAD:
        raise DeadLetterError(
            f"dead letter {letter.pk}: {letter.consumer} already processed event {envelope.id} (inbox: "
            f"{entry.outcome}); replaying it would apply it twice"
        )
    try:
        Catalogue.default().validate(*parse_uri(envelope.dataschema), envelope.data)
    except (SchemaViolation, UnknownEventType) as exc:
        raise DeadLetterError(f"dead letter {letter.pk}: the data still does not match its schema: {exc}") from None
    return envelope


def dead_letter_replay(*, dead_letter_id: int, handlers: HandlerTable | None = None) -> str:
    """Run the consumer's handlers for one dead event in one transaction; returns the inbox outcome.

    A handler's exception rolls everything back and is raised as ``DeadLetterError``.
    """
    handlers = handlers or handler_table()
    with transaction.atomic():
        letter = DeadLetter.objects.select_for_update().filter(pk=dead_letter_id).first()
        if letter is None:
            raise DeadLetterError(f"no dead letter with id {dead_letter_id}")
        envelope = dead_letter_check_replayable(letter)
        # The aggregate's position row serialises its deliveries: take it so a live delivery does not interleave.
        ConsumerPosition.objects.select_for_update().filter(
            consumer=letter.consumer, aggregate_type=envelope.aggregatetype, aggregate_id=envelope.subject
        ).first()
        chosen = handlers.for_event(letter.consumer, envelope.type)
        try:
            for handler in chosen:
                handler(envelope)
        except Exception as exc:
            raise DeadLetterError(
                f"dead letter {letter.pk}: {letter.consumer}'s handler failed again: {type(exc).__name__}: {exc}"
            ) from exc
        outcome = InboxEntry.Outcome.HANDLED if chosen else InboxEntry.Outcome.IGNORED
        InboxEntry.objects.update_or_create(
            consumer=letter.consumer, event_id=envelope.id,
            defaults={
                "event_type": envelope.type, "aggregate_type": envelope.aggregatetype,
                "aggregate_id": envelope.subject, "sequence": envelope.sequence, "outcome": outcome,
                "processed_at": timezone.now(),
            },
        )  # fmt: skip
        letter.replayed_at = timezone.now()
        letter.save(update_fields=["replayed_at"])
    return str(outcome)


def dead_letters_discard(*, ids: Sequence[int]) -> int:
    """Delete the dead letters with ``ids``, all or none: an unknown id raises ``DeadLetterError``."""
    with transaction.atomic():
        letters = dead_letters_get(ids=ids)
        DeadLetter.objects.filter(pk__in=[letter.pk for letter in letters]).delete()
    return len(letters)
