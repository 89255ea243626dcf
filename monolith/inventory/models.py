from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q


class Warehouse(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    # Lower ships first when several warehouses could supply an order (see allocation.py).
    priority = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.code


class Stock(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock")
    sku = models.CharField(max_length=64)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    # Bumped on every change; published with the levels so replicas apply the newest state whatever the order.
    version = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku", "warehouse__priority", "warehouse__code"]
        permissions = [("adjust_stock", "Can adjust stock levels")]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku"], name="stock_unique_warehouse_sku"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_non_negative"),
            models.CheckConstraint(condition=Q(on_hand__gte=F("reserved")), name="stock_on_hand_covers_reserved"),
        ]

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def __str__(self) -> str:
        return f"{self.sku}@{self.warehouse_id}: {self.on_hand} on hand, {self.reserved} reserved"


class Reservation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        RELEASED = "released"
        CONSUMED = "consumed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(
        max_length=64, db_index=True, help_text="What the stock is held for, e.g. an order id."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("reserve_stock", "Can create and release reservations")]

    def __str__(self) -> str:
        return f"reservation {self.id} for {self.reference} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT)
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    consumed = models.BooleanField(default=False, help_text="Shipped: taken off on-hand stock.")

    class Meta:
        ordering = ["sku", "warehouse__priority", "warehouse__code"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_line_positive")]


class StockAdjustment(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT)
    sku = models.CharField(max_length=64)
    delta = models.IntegerField()
    reason = models.CharField(max_length=200)
    actor_id = models.BigIntegerField(null=True, blank=True)
    on_hand_after = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
