from django.contrib import admin

from monolith.shipments.models import Shipment, ShipmentLine


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("tracking_number", "order_id", "warehouse", "status", "created_at", "dispatched_at")
    list_filter = ("status", "warehouse")
    search_fields = ("tracking_number", "order_id")
    inlines = [ShipmentLineInline]
