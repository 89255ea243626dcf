from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import F, Q


class Payment(models.Model):
    class Status(models.TextChoices):
        AUTHORIZED = "authorized"
        CAPTURED = "captured"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"
        VOIDED = "voided"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer_id = models.BigIntegerField(db_index=True)
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices)
    gateway_reference = models.CharField(max_length=64)
    captured_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("capture_payment", "Can capture payments"),
            ("void_payment", "Can void payments"),
            ("refund_payment", "Can refund payments"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(captured_amount__lte=F("amount")), name="payment_capture_within_amount"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("captured_amount")), name="payment_refund_within_capture"
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.id} {self.amount} {self.currency} ({self.status})"
