from django.contrib import admin

from monolith.payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("id", "customer_id", "order_id", "amount", "currency", "status", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("id", "order_id", "gateway_reference")
    readonly_fields = [f.name for f in Payment._meta.fields]
