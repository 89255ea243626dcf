"""The monolith's payment serializers, over the domain's ``Payment`` instead of a model (same fields, formats)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from rest_framework import serializers

# As monolith.catalog.models.CURRENCY_VALIDATOR (that module's models need the catalog app).
CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Currency: an ISO 4217 code such as EUR.")


class AuthorizeInSerializer(serializers.Serializer):  # type: ignore[type-arg]
    amount = serializers.DecimalField(min_value=Decimal("0.01"), max_digits=12, decimal_places=2)
    currency = serializers.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    card_token = serializers.CharField(max_length=64)
    order_id = serializers.UUIDField(required=False, allow_null=True)


class AmountInSerializer(serializers.Serializer):  # type: ignore[type-arg]
    amount = serializers.DecimalField(min_value=Decimal("0.01"), required=False, max_digits=12, decimal_places=2)


class PaymentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(read_only=True)
    customer_id = serializers.IntegerField(read_only=True)
    order_id = serializers.UUIDField(read_only=True, allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    currency = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    captured_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    refunded_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
