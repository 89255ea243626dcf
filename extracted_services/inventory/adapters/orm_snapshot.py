"""This service's whole inventory as documents in the export's shape, read from the ORM for reconciliation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch

from extracted_services.inventory.adapters import orm
from extracted_services.inventory.adapters.documents import level_document, reservation_document
from extracted_services.inventory.adapters.orm_repository import reservation_of_row
from extracted_services.inventory.domain.model import StockLevel

_CHUNK = 2000


def warehouse_documents() -> Iterator[dict[str, Any]]:
    for w in orm.Warehouse.objects.order_by("code"):
        yield {"code": w.code, "name": w.name, "priority": w.priority}


def stock_documents() -> Iterator[dict[str, Any]]:
    rows = orm.Stock.objects.select_related("warehouse").order_by("pk")
    for row in rows.iterator(chunk_size=_CHUNK):
        yield level_document(StockLevel(row.warehouse.code, row.sku, row.on_hand, row.reserved, row.version))


def reservation_documents() -> Iterator[dict[str, Any]]:
    lines = orm.ReservationLine.objects.select_related("warehouse")
    rows = orm.Reservation.objects.prefetch_related(Prefetch("lines", queryset=lines)).order_by("pk")
    for row in rows.iterator(chunk_size=_CHUNK):
        yield reservation_document(reservation_of_row(row))
