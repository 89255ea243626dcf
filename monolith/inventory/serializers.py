from __future__ import annotations

from typing import Any

from rest_framework import serializers

from monolith.catalog.models import SKU_VALIDATOR
from monolith.inventory.models import Reservation, StockAdjustment
from monolith.inventory.selectors import SkuStock


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
                for w in instance.warehouses
            ],
        }


class AdjustmentInSerializer(serializers.Serializer):
    warehouse = serializers.CharField(max_length=32)
    sku = serializers.CharField(max_length=64, validators=[SKU_VALIDATOR])
    delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)
    reason = serializers.CharField(max_length=200)


class AdjustmentOutSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")

    class Meta:
        model = StockAdjustment
        fields = ["id", "warehouse", "sku", "delta", "reason", "on_hand_after", "created_at"]


class ReservationLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, validators=[SKU_VALIDATOR])
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class ReservationInSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=64)
    lines = serializers.ListField(child=ReservationLineInSerializer(), allow_empty=False, max_length=100)


class ReservationLineOutSerializer(serializers.Serializer):
    warehouse = serializers.CharField(source="warehouse.code")
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    consumed = serializers.BooleanField()


class ReservationOutSerializer(serializers.ModelSerializer):
    lines = ReservationLineOutSerializer(many=True)

    class Meta:
        model = Reservation
        fields = ["id", "reference", "status", "lines", "created_at", "updated_at"]
