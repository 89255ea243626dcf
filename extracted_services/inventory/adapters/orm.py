"""The service's inventory tables, with the monolith's constraints (so the database refuses what it refuses).

Differences, each for the replica: timestamps of reservations are set by the repository (a replicated
reservation keeps the time its events carry) rather than ``auto_now``; there are no ``permissions`` (a service
reads permissions from tokens, it has no users).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

# Managers are declared (not left implicit) so type checkers know them whatever Django project they load.


class Warehouse(models.Model):
    objects: ClassVar[models.Manager[Warehouse]] = models.Manager()
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    priority = models.PositiveIntegerField(default=100)  # lower ships first

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.code


class Stock(models.Model):
    objects: ClassVar[models.Manager[Stock]] = models.Manager()
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock")
    sku = models.CharField(max_length=64)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    version = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    if TYPE_CHECKING:
        warehouse_id: int

    class Meta:
        ordering = ["sku", "warehouse__priority", "warehouse__code"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku"], name="stock_unique_warehouse_sku"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_non_negative"),
            models.CheckConstraint(condition=Q(on_hand__gte=F("reserved")), name="stock_on_hand_covers_reserved"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}@{self.warehouse_id}: {self.on_hand} on hand, {self.reserved} reserved"


class Reservation(models.Model):
    objects: ClassVar[models.Manager[Reservation]] = models.Manager()

    class Status(models.TextChoices):
        ACTIVE = "active"
        RELEASED = "released"
        CONSUMED = "consumed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    if TYPE_CHECKING:
        lines: RelatedManager[ReservationLine]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"reservation {self.id} for {self.reference} ({self.status})"


class ReservationLine(models.Model):
    objects: ClassVar[models.Manager[ReservationLine]] = models.Manager()
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT)
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    consumed = models.BooleanField(default=False)

    class Meta:
        ordering = ["sku", "warehouse__priority", "warehouse__code"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_line_positive"),
            models.UniqueConstraint(fields=["reservation", "warehouse", "sku"], name="reservation_line_unique"),
        ]


class StockAdjustment(models.Model):
    objects: ClassVar[models.Manager[StockAdjustment]] = models.Manager()
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT)
    sku = models.CharField(max_length=64)
    delta = models.IntegerField()
    reason = models.CharField(max_length=200)
    actor_id = models.BigIntegerField(null=True, blank=True)
    on_hand_after = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
