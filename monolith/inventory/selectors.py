from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from monolith.core.errors import NotFound
from monolith.core.export import ExportPage, export_page
from monolith.inventory import published
from monolith.inventory.models import Reservation, ReservationLine, Stock, Warehouse


@dataclass(frozen=True)
class StockLevel:
    warehouse: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class SkuStock:
    sku: str
    warehouses: list[StockLevel]

    @property
    def on_hand(self) -> int:
        return sum(w.on_hand for w in self.warehouses)

    @property
    def reserved(self) -> int:
        return sum(w.reserved for w in self.warehouses)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def stock_get(*, sku: str) -> SkuStock:
    rows = list(Stock.objects.select_related("warehouse").filter(sku=sku))
    if not rows:
        raise NotFound(f"No stock is kept for SKU {sku}.", code="sku_not_found")
    rows.sort(key=lambda r: (r.warehouse.priority, r.warehouse.code))
    return SkuStock(sku=sku, warehouses=[StockLevel(r.warehouse.code, r.on_hand, r.reserved) for r in rows])


def reservation_get(*, reservation_id: uuid.UUID) -> Reservation:
    reservation = Reservation.objects.prefetch_related("lines__warehouse").filter(pk=reservation_id).first()
    if reservation is None:
        raise NotFound("No such reservation.", code="reservation_not_found")
    return reservation


def reservation_for_reference(*, reference: str) -> Reservation | None:
    return Reservation.objects.prefetch_related("lines__warehouse").filter(reference=reference).first()


def stock_export(*, after: int | None, limit: int) -> ExportPage:
    """One record per stock row, shaped as an element of the events' ``levels``."""
    return export_page(
        Stock.objects.select_related("warehouse"), after=after, limit=limit, aggregate_type="stock",
        id_fields=("warehouse__code", "sku"), aggregate_id=published.stock_aggregate_id,
        document=lambda row: published.levels([row])[0],
    )  # fmt: skip


def reservation_export(*, after: uuid.UUID | None, limit: int) -> ExportPage:
    """One record per reservation: the ``stock.reserved`` data without ``levels``, plus what only a copy needs."""
    lines = ReservationLine.objects.select_related("warehouse").order_by("sku", "warehouse__code")
    return export_page(
        Reservation.objects.prefetch_related(Prefetch("lines", queryset=lines)), after=after, limit=limit,
        aggregate_type="reservation", id_fields=("pk",), aggregate_id=str, document=_reservation_record,
    )  # fmt: skip


def _reservation_record(reservation: Reservation) -> dict[str, Any]:
    """The events' document (their shape unchanged) with ``consumed`` per line and the reservation's timestamps:
    a copy then knows which lines already shipped (a release gives back only the others) and when it was made."""
    lines = list(reservation.lines.all())
    document = published.reservation_snapshot(reservation, lines)
    for shaped, line in zip(document["lines"], lines, strict=True):
        shaped["consumed"] = line.consumed
    return {
        **document, "created_at": reservation.created_at.isoformat(), "updated_at": reservation.updated_at.isoformat(),
    }  # fmt: skip


def warehouse_export(*, after: int | None, limit: int) -> ExportPage:
    """One record per warehouse: ``code``, ``name``, ``priority`` (events carry no priorities, so a copy ranks
    warehouses as the monolith does only from these). Warehouses publish no events: their aggregate never has a
    sequence (always 0), and a backfill seeds nothing from them."""
    return export_page(
        Warehouse.objects.all(), after=after, limit=limit, aggregate_type="warehouse", id_fields=("code",),
        aggregate_id=str, document=lambda w: {"code": w.code, "name": w.name, "priority": w.priority},
    )  # fmt: skip
