from rest_framework import serializers

from monolith.catalog.models import Product


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["sku", "name", "price", "currency", "active"]
