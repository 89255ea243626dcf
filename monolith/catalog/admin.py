from django.contrib import admin

from monolith.catalog.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "price", "currency", "active")
    list_filter = ("active", "currency")
    search_fields = ("sku", "name")
