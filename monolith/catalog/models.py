from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

SKU_VALIDATOR = RegexValidator(r"^[A-Z0-9][A-Z0-9-]{1,63}$", "SKU: upper-case letters, digits and dashes.")
CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Currency: an ISO 4217 code such as EUR.")


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True, validators=[SKU_VALIDATOR])
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_non_negative")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
