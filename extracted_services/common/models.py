"""Tables every extracted service keeps for its replica of the monolith's data."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class BackfillCheckpoint(models.Model):
    """How far the backfill of one export resource got: committed with each page's records, so a backfill
    killed at any point resumes after the last page it stored, with no record twice and none missed."""

    objects: ClassVar[models.Manager[BackfillCheckpoint]] = models.Manager()

    resource = models.CharField(max_length=64, unique=True)
    cursor = models.TextField(null=True, blank=True)  # the export's ``next`` after the last stored page
    done = models.BooleanField(default=False)
    records = models.PositiveBigIntegerField(default=0)
    pages = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.resource}: {self.records} records{' (done)' if self.done else ''}"


class ReplicaWatermark(models.Model):
    """The time of the newest event the replica applied, per aggregate (the row the inbox already serialises,
    so recording it adds no contention); replication status reads the newest one for ``lag_seconds``."""

    objects: ClassVar[models.Manager[ReplicaWatermark]] = models.Manager()

    consumer = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=128)
    event_time = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "aggregate_type", "aggregate_id"], name="replica_watermark_unique"
            )
        ]
        indexes = [models.Index(fields=["consumer", "event_time"], name="replica_watermark_newest")]
