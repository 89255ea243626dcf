from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from monolith.catalog.models import Product
from monolith.core.errors import NotFound


def product_list(*, active_only: bool = True) -> QuerySet[Product]:
    products = Product.objects.all()
    return products.filter(active=True) if active_only else products


def product_get(*, sku: str) -> Product:
    try:
        return Product.objects.get(sku=sku)
    except Product.DoesNotExist:
        raise NotFound(f"No product with SKU {sku}.", code="product_not_found") from None


def products_by_sku(*, skus: Iterable[str]) -> dict[str, Product]:
    return {p.sku: p for p in Product.objects.filter(sku__in=set(skus))}
