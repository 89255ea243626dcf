"""Tables of the event backbone: the outbox (and its archive of sent rows) and per-aggregate sequences."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxEvent(models.Model):
    """One event, written in the same transaction as the business change that caused it.

    ``payload`` is the whole CloudEvents envelope as JSON text, so the relay ships it without re-encoding.
    Rows stay after sending (``sent_at`` set) as the archive replay reads, until ``events_prune`` removes them.
    """

    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=128)
    sequence = models.PositiveBigIntegerField()
    # hash(aggregate) % PARTITIONS: a relay owns whole partitions, so one aggregate is only ever sent by one relay.
    partition = models.PositiveSmallIntegerField()
    payload = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "sequence"], name="outbox_unique_aggregate_sequence"
            )
        ]
        indexes = [
            # The relay's hot query: unsent rows of a partition in id order. Partial, so it stays small.
            models.Index(fields=["partition", "id"], condition=Q(sent_at__isnull=True), name="outbox_unsent"),
            models.Index(fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent"),
            models.Index(fields=["event_type", "created_at"], name="outbox_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_type}/{self.aggregate_id}#{self.sequence}"


class AggregateSequence(models.Model):
    """The last sequence number handed out per aggregate; its row lock serialises an aggregate's publishers."""

    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=128)
    last_sequence = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["aggregate_type", "aggregate_id"], name="aggregate_sequence_unique")
        ]
