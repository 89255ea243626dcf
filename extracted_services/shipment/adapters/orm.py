"""The shipment service's tables (Django models mirroring ``monolith.shipments.models``' columns and
constraints) and the repository and unit of work over them.

::

    with DjangoUnitOfWork() as uow:                     # transaction.atomic()
        shipment = uow.shipments.get_for_update(sid)    # SELECT ... FOR UPDATE
        shipment.dispatch(now=now)
        uow.commit()                                    # rows saved + outbox rows, in the same transaction

``sequence`` is the aggregate's last event sequence the row reflects (see ``payment.adapters.orm``).
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models, transaction
from django.db.models import Q, QuerySet

from extracted_services.shipment.adapters import outbox
from extracted_services.shipment.domain import Shipment, ShipmentLine, ShipmentStatus

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

__all__ = [
    "DjangoShipmentRepository",
    "DjangoUnitOfWork",
    "LineRecord",
    "ShipmentRecord",
    "records",
    "save",
    "to_domain",
]

APP_LABEL = "shipment_service"


class ShipmentRecord(models.Model):
    objects: ClassVar[models.Manager[ShipmentRecord]] = models.Manager()
    if TYPE_CHECKING:
        lines: RelatedManager[LineRecord]
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField(db_index=True)
    customer_id = models.BigIntegerField(db_index=True)
    warehouse = models.CharField(max_length=32)
    status = models.CharField(
        max_length=16,
        choices=[(s.value, s.value.title()) for s in ShipmentStatus],
        default=ShipmentStatus.CREATED.value,
    )
    tracking_number = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    sequence = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = APP_LABEL
        db_table = "shipment_service_shipment"
        ordering = ["created_at", "warehouse"]

    def __str__(self) -> str:
        return f"shipment {self.tracking_number} ({self.status})"


class LineRecord(models.Model):
    objects: ClassVar[models.Manager[LineRecord]] = models.Manager()
    shipment = models.ForeignKey(ShipmentRecord, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()

    class Meta:
        app_label = APP_LABEL
        db_table = "shipment_service_shipmentline"
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_positive")]


def records() -> QuerySet[ShipmentRecord]:
    """Shipments with their lines, in the API's order (created, then warehouse)."""
    return ShipmentRecord.objects.prefetch_related("lines")


def to_domain(record: ShipmentRecord) -> Shipment:
    lines = tuple(sorted(ShipmentLine(line.sku, line.quantity) for line in record.lines.all()))
    return Shipment(
        id=record.id, order_id=record.order_id, customer_id=record.customer_id, warehouse=record.warehouse,
        status=ShipmentStatus(record.status), tracking_number=record.tracking_number, lines=lines,
        created_at=record.created_at, dispatched_at=record.dispatched_at, delivered_at=record.delivered_at,
        cancelled_at=record.cancelled_at,
    )  # fmt: skip


def _columns(shipment: Shipment) -> dict[str, Any]:
    return {
        "order_id": shipment.order_id, "customer_id": shipment.customer_id, "warehouse": shipment.warehouse,
        "status": shipment.status.value, "tracking_number": shipment.tracking_number,
        "created_at": shipment.created_at, "dispatched_at": shipment.dispatched_at,
        "delivered_at": shipment.delivered_at, "cancelled_at": shipment.cancelled_at,
    }  # fmt: skip


def save(shipment: Shipment, *, sequence: int | None = None) -> None:
    """Insert or update the shipment's rows (``sequence``: the event sequence it now reflects; None keeps it)."""
    columns = _columns(shipment)
    if sequence is not None:
        columns["sequence"] = sequence
    record, _ = ShipmentRecord.objects.update_or_create(id=shipment.id, defaults=columns)
    stored = sorted(ShipmentLine(sku, quantity) for sku, quantity in record.lines.values_list("sku", "quantity"))
    if tuple(stored) != shipment.lines:
        record.lines.all().delete()
        LineRecord.objects.bulk_create(
            LineRecord(shipment=record, sku=line.sku, quantity=line.quantity) for line in shipment.lines
        )


class DjangoShipmentRepository:
    def __init__(self) -> None:
        self.seen: list[Shipment] = []

    def add(self, shipment: Shipment) -> None:
        self.seen.append(shipment)

    def get(self, shipment_id: uuid.UUID, *, customer_id: int | None = None) -> Shipment | None:
        found = records().filter(pk=shipment_id)
        if customer_id is not None:
            found = found.filter(customer_id=customer_id)
        record = found.first()
        return None if record is None else to_domain(record)

    def get_for_update(self, shipment_id: uuid.UUID) -> Shipment | None:
        record = ShipmentRecord.objects.select_for_update().filter(pk=shipment_id).first()
        if record is None:
            return None
        shipment = to_domain(record)
        self.seen.append(shipment)
        return shipment

    def has_open(self, *, order_id: uuid.UUID, warehouse: str) -> bool:
        found = ShipmentRecord.objects.filter(order_id=order_id, warehouse=warehouse)
        return found.exclude(status=ShipmentStatus.CANCELLED.value).exists()


class DjangoUnitOfWork:
    """One ``transaction.atomic()`` block; ``commit()`` saves the shipments touched and publishes their events."""

    shipments: DjangoShipmentRepository

    def __enter__(self) -> DjangoUnitOfWork:
        self.shipments = DjangoShipmentRepository()
        self._committed = False
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None and not self._committed:
            transaction.set_rollback(True)
        self._atomic.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        for shipment in self.shipments.seen:
            sequence = None
            for event in shipment.events:
                sequence = outbox.publish_shipment_event(event).sequence
            shipment.events.clear()
            save(shipment, sequence=sequence)
        self._committed = True
