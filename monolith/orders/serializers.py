from rest_framework import serializers

from monolith.catalog.models import SKU_VALIDATOR
from monolith.orders.models import Order, OrderLine


class OrderLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, validators=[SKU_VALIDATOR])
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class PaymentInSerializer(serializers.Serializer):
    card_token = serializers.CharField(max_length=64)


class OrderInSerializer(serializers.Serializer):
    lines = serializers.ListField(child=OrderLineInSerializer(), allow_empty=False, max_length=50)
    payment = PaymentInSerializer()


class CancelInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity", "line_total"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "customer_id",
            "status",
            "currency",
            "total",
            "lines",
            "reservation_id",
            "payment_id",
            "cancel_reason",
            "created_at",
            "updated_at",
        ]
