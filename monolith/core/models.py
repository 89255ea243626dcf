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
