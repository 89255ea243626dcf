"""Tables of the event backbone: the outbox (and its archive of sent rows) and per-aggregate sequences."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """One event, written in the same transaction as the business change that caused it.

    ``payload`` is the whole CloudEvents envelope as JSON text, so the relay ships it without re-encoding. The
    row is never updated: whether it still has to be sent lives in ``OutboxPending``. Sent rows stay as the
    archive replay reads, until ``events_prune`` removes them.
    """

    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=100)
    source = models.CharField(max_length=255, default="")
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=128)
    sequence = models.PositiveBigIntegerField()
    # hash(aggregate) % PARTITIONS: a relay owns whole partitions, so one aggregate is only ever sent by one relay.
    partition = models.PositiveSmallIntegerField()
    payload = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "sequence"], name="outbox_unique_aggregate_sequence"
            )
        ]
        indexes = [
            models.Index(fields=["created_at"], name="outbox_created"),  # events_prune
            models.Index(fields=["event_type", "created_at"], name="outbox_type_time"),  # events_replay
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_type}/{self.aggregate_id}#{self.sequence}"


class OutboxPending(models.Model):
    """An outbox row not yet acknowledged by the broker: inserted with it, deleted once it is sent.

    Keeping this state apart makes "mark sent" a delete of a narrow row instead of an update of the wide one
    (which PostgreSQL would rewrite with every index entry); the relay's hot query reads this small table in id
    order. ``id`` is the outbox row's id (no foreign key: the relay deletes these at a high rate).
    """

    id = models.BigIntegerField(primary_key=True)
    partition = models.PositiveSmallIntegerField()
    attempts = models.PositiveIntegerField(default=0, db_default=0)  # failed sends so far
    last_error = models.TextField(blank=True, default="", db_default="")

    class Meta:
        verbose_name_plural = "outbox pending"


class AggregateSequence(models.Model):
    """The last sequence number handed out per aggregate; its row lock serialises an aggregate's publishers."""

    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=128)
    last_sequence = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["aggregate_type", "aggregate_id"], name="aggregate_sequence_unique")
        ]


class RelayProcess(models.Model):
    """A running relay's heartbeat: relays count the live ones to share partitions evenly."""

    name = models.CharField(max_length=100, unique=True)
    heartbeat_at = models.DateTimeField()
    partitions = models.JSONField(default=list)
    sent_total = models.PositiveBigIntegerField(default=0)


class RelayLease(models.Model):
    """Partition ownership on databases without advisory locks (SQLite): a lease that expires if not renewed."""

    partition = models.PositiveSmallIntegerField(unique=True)
    owner = models.CharField(max_length=100)
    expires_at = models.DateTimeField()


class InboxEntry(models.Model):
    """An event a consumer has handled (or deliberately skipped), written in the handler's own transaction."""

    class Outcome(models.TextChoices):
        HANDLED = "handled"
        IGNORED = "ignored"  # no handler for this type
        DEAD = "dead"  # dead-lettered: skipped so later events of its aggregate can proceed
        COVERED = "covered"  # already in the snapshot the consumer was seeded from (events.positions.seed_position)

    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=128)
    sequence = models.PositiveBigIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consumer", "event_id"], name="inbox_unique_delivery")]
        verbose_name_plural = "inbox entries"


class ConsumerPosition(models.Model):
    """The last sequence a consumer applied per aggregate: the next event must carry exactly the next number.

    ``baseline`` is the highest sequence a snapshot seeded (``events.positions.seed_position``): a never-seen
    event at or below it is already in the consumer's data and is recorded as covered, not dead-lettered.
    """

    consumer = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=128)
    last_sequence = models.PositiveBigIntegerField(default=0)
    baseline = models.PositiveBigIntegerField(default=0, db_default=0)
    waiting_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "aggregate_type", "aggregate_id"], name="consumer_position_unique"
            )
        ]


class DeadLetter(models.Model):
    """An event a consumer gave up on, with why and how often it tried; listed, replayed or discarded by command."""

    class Reason(models.TextChoices):
        HANDLER_FAILED = "handler_failed"
        SCHEMA_INVALID = "schema_invalid"
        MALFORMED = "malformed"
        SEQUENCE_GAP = "sequence_gap"
        LATE = "late"  # arrived after its aggregate moved past the gap it left

    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField(null=True, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    aggregate_type = models.CharField(max_length=64, blank=True)
    aggregate_id = models.CharField(max_length=128, blank=True)
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["consumer", "created_at"], name="dead_letter_consumer_time")]

    def __str__(self) -> str:
        return f"{self.consumer}: {self.event_type or 'unparseable'} ({self.reason})"
