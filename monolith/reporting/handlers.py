"""The ``reporting`` consumer: keeps SkuSales from order events (run by the events inbox, in its transaction)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F

from events.envelope import Envelope
from monolith.reporting.models import SkuSales


def _count(envelope: Envelope, sign: int) -> None:
    for line in envelope.data["lines"]:
        SkuSales.objects.get_or_create(sku=line["sku"])
        SkuSales.objects.filter(sku=line["sku"]).update(
            units=F("units") + sign * line["quantity"],
            revenue=F("revenue") + sign * Decimal(line["line_total"]),
            orders=F("orders") + sign,
        )


def on_order_confirmed(envelope: Envelope) -> None:
    _count(envelope, +1)


def on_order_cancelled(envelope: Envelope) -> None:
    # A pending order cancelled before confirmation was never counted.
    if envelope.data.get("payment_id"):
        _count(envelope, -1)
