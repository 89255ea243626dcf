from __future__ import annotations

from decimal import Decimal

from django.db import models


class SkuSales(models.Model):
    """Units and revenue sold per SKU: a read model kept by the ``reporting`` consumer from order events."""

    sku = models.CharField(max_length=64, unique=True)
    units = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    orders = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        verbose_name_plural = "SKU sales"
