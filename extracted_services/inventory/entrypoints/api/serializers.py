# mypy: disallow-any-generics=False
# DRF's serializers are generic in the stubs only; as in the monolith, their parameters add noise, not safety.
"""The inventory API's request and response shapes: field for field those of ``monolith/inventory/serializers.py``
(same validators and limits, so a bad request gets the same 400 details on either side). Outputs read the
domain's values (``Adjustment``, ``Reservation``, ``SkuStock``) by attribute."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from extracted_services.inventory.service_layer.queries import SkuStock

# The catalogue's rule for SKUs (monolith.catalog.models.SKU_VALIDATOR; the catalogue is not part of this service).
SKU_VALIDATOR = RegexValidator(r"^[A-Z0-9][A-Z0-9-]{1,63}$", "SKU: upper-case letters, digits and dashes.")


class StockLevelSerializer(serializers.Serializer):
    warehouse = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()


class StockTotalSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()


class SkuStockSerializer(serializers.Serializer):
    sku = serializers.CharField()
    total = StockTotalSerializer()
    warehouses = StockLevelSerializer(many=True)

    def to_representation(self, instance: SkuStock) -> dict[str, Any]:
        return {
            "sku": instance.sku,
            "total": {"on_hand": instance.on_hand, "reserved": instance.reserved, "available": instance.available},
            "warehouses": [
                {"warehouse": w.warehouse, "on_hand": w.on_hand, "reserved": w.reserved, "available": w.available}
                for w in instance.levels
            ],
        }


class AdjustmentInSerializer(serializers.Serializer):
    warehouse = serializers.CharField(max_length=32)
    sku = serializers.CharField(max_length=64, validators=[SKU_VALIDATOR])
    delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)
    reason = serializers.CharField(max_length=200)


class AdjustmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    warehouse = serializers.CharField()
    sku = serializers.CharField()
    delta = serializers.IntegerField()
    reason = serializers.CharField()
    on_hand_after = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ReservationLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, validators=[SKU_VALIDATOR])
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class ReservationInSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=64)
    lines = serializers.ListField(child=ReservationLineInSerializer(), allow_empty=False, max_length=100)


class ReservationLineOutSerializer(serializers.Serializer):
    warehouse = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    consumed = serializers.BooleanField()


class ReservationOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.CharField()
    lines = ReservationLineOutSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
