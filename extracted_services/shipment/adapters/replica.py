"""This service's copy of the monolith's shipments: whole-state documents stored as they are, publishing nothing.

Documents come from the monolith's ``shipment.*`` events (consumer ``shipment``) and from its export API (the
backfill). A document is stored only when its aggregate sequence is newer than the row's. The documents carry no
timestamps: a shipment is dated by the event that first showed it created, dispatched, delivered or cancelled
(the backfill: by the time it copied it). Storing also continues the aggregate's numbering in this service's
outbox (``extracted_services.common.numbering``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from extracted_services.common.numbering import continue_numbering
from extracted_services.common.positions import seed_position
from extracted_services.shipment.adapters.orm import ShipmentRecord, records, save, to_domain
from extracted_services.shipment.adapters.outbox import AGGREGATE_TYPE
from extracted_services.shipment.domain import Shipment

__all__ = ["CONSUMER", "apply_document", "apply_export_page", "local_documents"]

CONSUMER = "shipment"
_EXPORT_FIELDS = ("aggregate_type", "aggregate_id", "sequence")


def apply_document(document: Mapping[str, Any], *, sequence: int, at: datetime) -> bool:
    """Store the shipment ``document`` describes if ``sequence`` is newer than the row's; True when stored."""
    shipment_id = uuid.UUID(str(document["shipment_id"]))
    with transaction.atomic():
        record = ShipmentRecord.objects.select_for_update().filter(pk=shipment_id).first()
        if record is not None and record.sequence >= sequence:
            return False
        previous = None if record is None else to_domain(record)
        save(Shipment.from_document(dict(document), at=at, previous=previous), sequence=sequence)
        continue_numbering(aggregate_type=AGGREGATE_TYPE, aggregate_id=str(shipment_id), sequence=sequence)
    return True


def apply_export_page(page: Sequence[Mapping[str, Any]]) -> int:
    """Store a page of export records (each newer than its row); returns how many were stored. Positions are
    seeded first, so locks are taken in the inbox's order (position, then row)."""
    now = timezone.now()
    stored = 0
    for record in page:
        sequence = int(record["sequence"])
        seed_position(
            consumer=CONSUMER, aggregate_type=AGGREGATE_TYPE, aggregate_id=str(record["aggregate_id"]),
            sequence=sequence,
        )  # fmt: skip
        document = {k: v for k, v in record.items() if k not in _EXPORT_FIELDS}
        stored += apply_document(document, sequence=sequence, at=now)
    return stored


def local_documents() -> Iterable[dict[str, Any]]:
    """Every shipment this service holds, in the export's shape."""
    for record in records().order_by("pk"):
        yield {
            **to_domain(record).document(), "aggregate_type": AGGREGATE_TYPE, "aggregate_id": str(record.pk),
            "sequence": record.sequence,
        }  # fmt: skip
