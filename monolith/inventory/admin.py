from django.contrib import admin

from monolith.inventory.models import Reservation, ReservationLine, Stock, StockAdjustment, Warehouse


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "priority")


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ("sku", "warehouse", "on_hand", "reserved")
    list_filter = ("warehouse",)
    search_fields = ("sku",)
    # Stock changes go through adjustments so every change has a reason.
    readonly_fields = ("on_hand", "reserved")


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    extra = 0
    readonly_fields = ("warehouse", "sku", "quantity", "consumed")


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ("id", "reference", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("reference",)
    inlines = [ReservationLineInline]


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(admin.ModelAdmin):
    list_display = ("created_at", "warehouse", "sku", "delta", "on_hand_after", "reason", "actor_id")
    list_filter = ("warehouse",)
    search_fields = ("sku", "reason")
