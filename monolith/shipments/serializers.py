from rest_framework import serializers

from monolith.catalog.models import SKU_VALIDATOR
from monolith.shipments.models import Shipment, ShipmentLine

MAX_BIGINT = 2**63 - 1  # customer ids are stored in 64-bit columns


class ShipmentLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(max_length=64, validators=[SKU_VALIDATOR])
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)

    class Meta:
        model = ShipmentLine
        fields = ["sku", "quantity"]


class ShipmentInSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    customer_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    warehouse = serializers.CharField(max_length=32)
    lines = serializers.ListField(child=ShipmentLineSerializer(), allow_empty=False, max_length=100)


class ShipmentSerializer(serializers.ModelSerializer):
    lines = ShipmentLineSerializer(many=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order_id",
            "customer_id",
            "warehouse",
            "status",
            "tracking_number",
            "lines",
            "created_at",
            "dispatched_at",
            "delivered_at",
            "cancelled_at",
        ]


class ShipmentListQuerySerializer(serializers.Serializer):
    order_id = serializers.UUIDField(required=False)
