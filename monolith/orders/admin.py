from django.contrib import admin

from monolith.orders.models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ("sku", "name", "unit_price", "quantity", "line_total")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("id", "customer_id", "status", "total", "currency", "created_at")
    list_filter = ("status",)
    search_fields = ("id",)
    # Status moves only through the services (orders.status), never by editing the row.
    readonly_fields = ("status", "total", "currency", "reservation_id", "payment_id", "customer_id")
    inlines = [OrderLineInline]
