from __future__ import annotations

from rest_framework import generics
from rest_framework.permissions import AllowAny

from monolith.catalog import selectors
from monolith.catalog.models import Product
from monolith.catalog.serializers import ProductSerializer


class ProductListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.product_list()


class ProductDetailView(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_object(self) -> Product:
        return selectors.product_get(sku=self.kwargs["sku"])
