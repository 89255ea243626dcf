from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyRecord(models.Model):
    """The first successful result of a write made with an ``Idempotency-Key``.

    Written in the same transaction as the write itself, so a key is recorded exactly when its effect is.
    """

    key = models.CharField(max_length=255)
    principal_id = models.BigIntegerField()
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=512)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal_id", "method", "path", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class CapabilityOwnership(models.Model):
    """Whether the monolith still accepts a capability's writes: the row the cut-over fence turns off.

    Every write service of the capability share-locks the row first (``monolith.core.ownership``); the fence
    locks it exclusively, so it waits for writers in flight and then no new write starts. Rows are created on
    first use.
    """

    class Capability(models.TextChoices):
        INVENTORY = "inventory"
        PAYMENTS = "payments"
        SHIPMENTS = "shipments"

    capability = models.CharField(max_length=32, primary_key=True, choices=Capability.choices)
    fenced = models.BooleanField(default=False)
    fenced_at = models.DateTimeField(null=True, blank=True)
    # The capability's published event count when it was fenced: what its service must have applied.
    position = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "capability ownership"

    def __str__(self) -> str:
        return f"{self.capability} ({'fenced' if self.fenced else 'owned by the monolith'})"
