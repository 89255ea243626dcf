"""OpenAPI documentation of the export API's records (``monolith.api.export``).

The views answer with the documents the events carry, built by each app's ``published`` module; these
serializers only describe them in the schema.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

MAX_LIMIT = 2_000
DEFAULT_LIMIT = 500

AFTER = OpenApiParameter(
    name="after",
    location=OpenApiParameter.QUERY,
    required=False,
    type=str,
    description="Opaque cursor: the `next` of the previous page. Absent: start from the first record.",
)
LIMIT = OpenApiParameter(
    name="limit",
    location=OpenApiParameter.QUERY,
    required=False,
    type={"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    description="Records per page.",
)


class _Record(serializers.Serializer):
    aggregate_type = serializers.CharField(help_text="The event aggregate the record belongs to.")
    aggregate_id = serializers.CharField()
    sequence = serializers.IntegerField(
        min_value=0, help_text="The aggregate's last published event sequence (0: it never published)."
    )


class WarehouseRecordSerializer(_Record):
    code = serializers.CharField()
    name = serializers.CharField()
    priority = serializers.IntegerField(min_value=0, help_text="Lower ships first.")


class StockRecordSerializer(_Record):
    warehouse = serializers.CharField()
    sku = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    version = serializers.IntegerField()


class _ReservationLine(serializers.Serializer):
    warehouse = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    consumed = serializers.BooleanField(help_text="Shipped: taken off on-hand stock (not in the events' lines).")


class ReservationRecordSerializer(_Record):
    reservation_id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "released", "consumed"])
    lines = _ReservationLine(many=True)
    created_at = serializers.DateTimeField(help_text="Not in the events' data, like updated_at.")
    updated_at = serializers.DateTimeField()


class PaymentRecordSerializer(_Record):
    payment_id = serializers.UUIDField()
    customer_id = serializers.IntegerField()
    order_id = serializers.UUIDField(allow_null=True)
    amount = serializers.CharField(help_text="Decimal string with two places.")
    currency = serializers.CharField()
    status = serializers.CharField()
    captured_amount = serializers.CharField()
    refunded_amount = serializers.CharField()


class _ShipmentLine(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class ShipmentRecordSerializer(_Record):
    shipment_id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    customer_id = serializers.IntegerField()
    warehouse = serializers.CharField()
    status = serializers.CharField()
    tracking_number = serializers.CharField()
    lines = _ShipmentLine(many=True)


class _Page(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="Cursor of the next page; null on the last page.")


class WarehousePageSerializer(_Page):
    results = WarehouseRecordSerializer(many=True)


class StockPageSerializer(_Page):
    results = StockRecordSerializer(many=True)


class ReservationPageSerializer(_Page):
    results = ReservationRecordSerializer(many=True)


class PaymentPageSerializer(_Page):
    results = PaymentRecordSerializer(many=True)


class ShipmentPageSerializer(_Page):
    results = ShipmentRecordSerializer(many=True)


class ExportPositionSerializer(serializers.Serializer):
    capability = serializers.ChoiceField(choices=["inventory", "payments", "shipments"])
    events = serializers.IntegerField(min_value=0, help_text="Events published so far for the capability.")
