from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Shipment(models.Model):
    class Status(models.TextChoices):
        CREATED = "created"
        DISPATCHED = "dispatched"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"

    # The only moves a shipment can make; every status change goes through shipments.services._move.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.CREATED: frozenset({Status.DISPATCHED, Status.CANCELLED}),
        Status.DISPATCHED: frozenset({Status.DELIVERED}),
        Status.DELIVERED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField(db_index=True)
    customer_id = models.BigIntegerField(db_index=True)
    warehouse = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    tracking_number = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "warehouse"]
        permissions = [
            ("create_shipment", "Can create shipments"),
            ("dispatch_shipment", "Can dispatch shipments"),
            ("deliver_shipment", "Can mark shipments delivered"),
            ("cancel_shipment", "Can cancel shipments"),
        ]

    def __str__(self) -> str:
        return f"shipment {self.tracking_number} ({self.status})"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_positive")]
