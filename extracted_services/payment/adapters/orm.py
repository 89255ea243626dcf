"""The payment service's tables (Django models mirroring ``monolith.payments.models``' columns and constraints)
and the repository and unit of work over them.

::

    with DjangoUnitOfWork() as uow:                     # transaction.atomic()
        payment = uow.payments.get_for_update(pid)      # SELECT ... FOR UPDATE
        payment.void(now=now)
        uow.commit()                                    # row saved + outbox rows, in the same transaction

``sequence`` is the aggregate's last event sequence the row reflects (this service's own events and the
replicated ones share one numbering, see ``adapters.replica``), so a replicated document older than the row is
never applied over it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from types import TracebackType
from typing import Any, ClassVar

from django.db import models, transaction
from django.db.models import F, Q

from extracted_services.payment.adapters import outbox
from extracted_services.payment.domain import Payment, PaymentStatus

__all__ = ["DjangoPaymentRepository", "DjangoUnitOfWork", "PaymentRecord", "to_domain", "save"]

APP_LABEL = "payment_service"


class PaymentRecord(models.Model):
    objects: ClassVar[models.Manager[PaymentRecord]] = models.Manager()
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer_id = models.BigIntegerField(db_index=True)
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=[(s.value, s.name.replace("_", " ").title()) for s in PaymentStatus]
    )
    gateway_reference = models.CharField(max_length=64, blank=True)
    captured_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    sequence = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = APP_LABEL
        db_table = "payment_service_payment"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(captured_amount__lte=F("amount")), name="payment_capture_within_amount"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("captured_amount")), name="payment_refund_within_capture"
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.id} {self.amount} {self.currency} ({self.status})"


def to_domain(record: PaymentRecord) -> Payment:
    return Payment(
        id=record.id, customer_id=record.customer_id, order_id=record.order_id, amount=record.amount,
        currency=record.currency, status=PaymentStatus(record.status), gateway_reference=record.gateway_reference,
        captured_amount=record.captured_amount, refunded_amount=record.refunded_amount,
        created_at=record.created_at, updated_at=record.updated_at,
    )  # fmt: skip


def _columns(payment: Payment) -> dict[str, Any]:
    return {
        "customer_id": payment.customer_id, "order_id": payment.order_id, "amount": payment.amount,
        "currency": payment.currency, "status": payment.status.value, "gateway_reference": payment.gateway_reference,
        "captured_amount": payment.captured_amount, "refunded_amount": payment.refunded_amount,
        "created_at": payment.created_at, "updated_at": payment.updated_at,
    }  # fmt: skip


def save(payment: Payment, *, sequence: int | None = None) -> None:
    """Insert or update the payment's row (``sequence``: the event sequence it now reflects; None keeps it)."""
    columns = _columns(payment)
    if sequence is not None:
        columns["sequence"] = sequence
    PaymentRecord.objects.update_or_create(id=payment.id, defaults=columns)


class DjangoPaymentRepository:
    def __init__(self) -> None:
        self.seen: list[Payment] = []

    def add(self, payment: Payment) -> None:
        self.seen.append(payment)

    def get(self, payment_id: uuid.UUID, *, customer_id: int | None = None) -> Payment | None:
        records = PaymentRecord.objects.filter(pk=payment_id)
        if customer_id is not None:
            records = records.filter(customer_id=customer_id)
        record = records.first()
        return None if record is None else to_domain(record)

    def get_for_update(self, payment_id: uuid.UUID) -> Payment | None:
        record = PaymentRecord.objects.select_for_update().filter(pk=payment_id).first()
        if record is None:
            return None
        payment = to_domain(record)
        self.seen.append(payment)
        return payment


class DjangoUnitOfWork:
    """One ``transaction.atomic()`` block; ``commit()`` saves the payments touched and publishes their events."""

    payments: DjangoPaymentRepository

    def __enter__(self) -> DjangoUnitOfWork:
        self.payments = DjangoPaymentRepository()
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
        for payment in self.payments.seen:
            sequence = None
            for event in payment.events:
                sequence = outbox.publish_payment_event(event).sequence
            payment.events.clear()
            save(payment, sequence=sequence)
        self._committed = True
