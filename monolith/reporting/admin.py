from django.contrib import admin

from monolith.reporting.models import SkuSales


@admin.register(SkuSales)
class SkuSalesAdmin(admin.ModelAdmin):
    list_display = ("sku", "units", "revenue", "orders", "updated_at")
    readonly_fields = ("sku", "units", "revenue", "orders")
