"""The monolith's shipment serializers, over the domain's ``Shipment`` instead of a model (same fields, formats)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

# As monolith.catalog.models.SKU_VALIDATOR (that module's models need the catalog app).
SKU_VALIDATOR = RegexValidator(r"^[A-Z0-9][A-Z0-9-]{1,63}$", "SKU: upper-case letters, digits and dashes.")
MAX_BIGINT = 2**63 - 1  # customer ids are stored in 64-bit columns


class ShipmentLineSerializer(serializers.Serializer):  # type: ignore[type-arg]
    sku = serializers.CharField(max_length=64, validators=[SKU_VALIDATOR])
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class ShipmentInSerializer(serializers.Serializer):  # type: ignore[type-arg]
    order_id = serializers.UUIDField()
    customer_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    warehouse = serializers.CharField(max_length=32)
    lines = serializers.ListField(child=ShipmentLineSerializer(), allow_empty=False, max_length=100)


class ShipmentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(read_only=True)
    order_id = serializers.UUIDField(read_only=True)
    customer_id = serializers.IntegerField(read_only=True)
    warehouse = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    tracking_number = serializers.CharField(read_only=True)
    lines = ShipmentLineSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    dispatched_at = serializers.DateTimeField(read_only=True, allow_null=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ShipmentListQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    order_id = serializers.UUIDField(required=False)
