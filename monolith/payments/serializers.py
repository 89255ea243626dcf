from decimal import Decimal

from rest_framework import serializers

from monolith.catalog.models import CURRENCY_VALIDATOR
from monolith.payments.models import Payment


class AuthorizeInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(min_value=Decimal("0.01"), max_digits=12, decimal_places=2)
    currency = serializers.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    card_token = serializers.CharField(max_length=64)
    order_id = serializers.UUIDField(required=False, allow_null=True)


class AmountInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(min_value=Decimal("0.01"), required=False, max_digits=12, decimal_places=2)


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "customer_id",
            "order_id",
            "amount",
            "currency",
            "status",
            "captured_amount",
            "refunded_amount",
            "created_at",
            "updated_at",
        ]
