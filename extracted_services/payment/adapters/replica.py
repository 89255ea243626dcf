"""This service's copy of the monolith's payments: whole-state documents stored as they are, publishing nothing.

Documents come from the monolith's ``payment.*`` events (consumer ``payment``) and from its export API (the
backfill). A document is stored only when its aggregate sequence is newer than the row's, so an older one (a
snapshot read before an event, a redelivery) never overwrites newer state.

Storing a document also continues the aggregate's numbering in this service's outbox: the next event this
service publishes for that payment (after cut-over) is the monolith's last sequence + 1, not 1, so consumers that
followed the payment's monolith events keep ordering it (they key positions by aggregate, not source).
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
from extracted_services.payment.adapters.orm import PaymentRecord, save, to_domain
from extracted_services.payment.adapters.outbox import AGGREGATE_TYPE
from extracted_services.payment.domain import Payment

__all__ = ["CONSUMER", "apply_document", "apply_export_page", "local_documents"]

CONSUMER = "payment"
_EXPORT_FIELDS = ("aggregate_type", "aggregate_id", "sequence")


def apply_document(document: Mapping[str, Any], *, sequence: int, at: datetime) -> bool:
    """Store the payment ``document`` describes if ``sequence`` is newer than the row's; True when stored."""
    payment_id = uuid.UUID(str(document["payment_id"]))
    with transaction.atomic():
        record = PaymentRecord.objects.select_for_update().filter(pk=payment_id).first()
        if record is not None and record.sequence >= sequence:
            return False
        previous = None if record is None else to_domain(record)
        save(Payment.from_document(dict(document), at=at, previous=previous), sequence=sequence)
        continue_numbering(aggregate_type=AGGREGATE_TYPE, aggregate_id=str(payment_id), sequence=sequence)
    return True


def apply_export_page(records: Sequence[Mapping[str, Any]]) -> int:
    """Store a page of export records (each newer than its row); returns how many were stored.

    Each record's consumer position is seeded first, taking the position's lock before the row's, in the order
    the inbox takes them, so a delivery of the same payment running meanwhile cannot deadlock with it.
    """
    now = timezone.now()
    stored = 0
    for record in records:
        sequence = int(record["sequence"])
        seed_position(
            consumer=CONSUMER, aggregate_type=AGGREGATE_TYPE, aggregate_id=str(record["aggregate_id"]),
            sequence=sequence,
        )  # fmt: skip
        document = {k: v for k, v in record.items() if k not in _EXPORT_FIELDS}
        stored += apply_document(document, sequence=sequence, at=now)
    return stored


def local_documents() -> Iterable[dict[str, Any]]:
    """Every payment this service holds, in the export's shape."""
    for record in PaymentRecord.objects.order_by("pk").iterator():
        yield {
            **to_domain(record).document(), "aggregate_type": AGGREGATE_TYPE, "aggregate_id": str(record.pk),
            "sequence": record.sequence,
        }  # fmt: skip
