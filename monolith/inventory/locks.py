"""Row locks for stock, always taken in primary-key order so concurrent writers cannot deadlock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from monolith.inventory.models import Reservation, Stock


def stock_lock_for_skus(*, skus: Iterable[str]) -> list[Stock]:
    # of=("self",): lock only the stock rows. A bare FOR UPDATE over the warehouse join would lock the shared
    # warehouse rows too, serialising every checkout and deadlocking ones that share a SKU.
    rows = Stock.objects.select_for_update(of=("self",)).select_related("warehouse").filter(sku__in=set(skus))
    return list(rows.order_by("pk"))


def stock_lock_rows(*, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Stock]:
    """Lock the stock rows for (warehouse id, sku) pairs; returns them keyed the same way."""
    wanted = set(pairs)
    skus = {sku for _, sku in wanted}
    rows = stock_lock_for_skus(skus=skus)
    return {(row.warehouse_id, row.sku): row for row in rows if (row.warehouse_id, row.sku) in wanted}


def reservation_lock(*, reservation_id: uuid.UUID) -> Reservation | None:
    return Reservation.objects.select_for_update().filter(pk=reservation_id).first()
