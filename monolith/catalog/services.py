from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from monolith.catalog.models import Product


@transaction.atomic
def product_upsert(*, sku: str, name: str, price: Decimal, currency: str, active: bool = True) -> Product:
    product, _ = Product.objects.update_or_create(
        sku=sku, defaults={"name": name, "price": price, "currency": currency, "active": active}
    )
    product.full_clean()
    return product
