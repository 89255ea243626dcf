"""The payment aggregate: an authorisation that can be captured once, voided, and refunded in parts.

::

    payment = Payment.authorized(id=pid, customer_id=7, order_id=None, amount=Decimal("19.90"), currency="EUR",
                                 gateway_reference="ch_...", now=now)
    amount = payment.capture_amount(None)      # checks state and limit: Decimal("19.90")
    ...                                        # the gateway captures it
    payment.capture(amount, now=now)           # records PaymentCaptured

Each change is checked first (``*_amount`` / ``needs_void``) and applied after the gateway agreed, so a
declined or failed gateway call leaves the payment as it was.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from extracted_services.payment.domain.errors import AmountExceedsLimit, InvalidAmount, InvalidPaymentState
from extracted_services.payment.domain.events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentEvent,
    PaymentRefunded,
    PaymentVoided,
)

__all__ = ["CENT", "Payment", "PaymentStatus", "check_positive", "money"]

CENT = Decimal("0.01")


class PaymentStatus(enum.StrEnum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


def money(value: Decimal | str) -> Decimal:
    return Decimal(value).quantize(CENT)


def check_positive(amount: Decimal) -> None:
    if amount <= 0:
        raise InvalidAmount()


def _check_within(amount: Decimal, limit: Decimal, what: str) -> None:
    check_positive(amount)
    if amount > limit:
        raise AmountExceedsLimit(limit=limit, what=what)


@dataclass(eq=False, kw_only=True)
class Payment:
    id: uuid.UUID
    customer_id: int
    order_id: uuid.UUID | None
    amount: Decimal
    currency: str
    status: PaymentStatus
    gateway_reference: str
    captured_amount: Decimal = Decimal("0.00")
    refunded_amount: Decimal = Decimal("0.00")
    created_at: datetime
    updated_at: datetime
    events: list[PaymentEvent] = field(default_factory=list, repr=False)

    @classmethod
    def authorized(
        cls,
        *,
        id: uuid.UUID,
        customer_id: int,
        order_id: uuid.UUID | None,
        amount: Decimal,
        currency: str,
        gateway_reference: str,
        now: datetime,
    ) -> Payment:
        check_positive(amount)
        payment = cls(
            id=id, customer_id=customer_id, order_id=order_id, amount=money(amount), currency=currency,
            status=PaymentStatus.AUTHORIZED, gateway_reference=gateway_reference, created_at=now, updated_at=now,
        )  # fmt: skip
        payment.events.append(PaymentAuthorized(payment.id, payment.document()))
        return payment

    @property
    def refundable(self) -> Decimal:
        return self.captured_amount - self.refunded_amount

    def _require(self, allowed: frozenset[PaymentStatus], action: str) -> None:
        if self.status not in allowed:
            raise InvalidPaymentState(status=self.status.value, action=action)

    def capture_amount(self, requested: Decimal | None) -> Decimal:
        """What a capture of ``requested`` (None: all of it) would take, or the error refusing it."""
        self._require(frozenset({PaymentStatus.AUTHORIZED}), "captured")
        amount = self.amount if requested is None else money(requested)
        _check_within(amount, self.amount, "captured")
        return amount

    def capture(self, amount: Decimal, *, now: datetime) -> None:
        amount = self.capture_amount(amount)
        self.captured_amount = amount
        self._changed(PaymentStatus.CAPTURED, now)
        self.events.append(PaymentCaptured(self.id, self.document()))

    def needs_void(self) -> bool:
        """False when already voided (voiding again changes nothing); the error when it cannot be voided."""
        if self.status is PaymentStatus.VOIDED:
            return False
        self._require(frozenset({PaymentStatus.AUTHORIZED}), "voided")
        return True

    def void(self, *, now: datetime) -> None:
        if not self.needs_void():
            return
        self._changed(PaymentStatus.VOIDED, now)
        self.events.append(PaymentVoided(self.id, self.document()))

    def refund_amount(self, requested: Decimal | None) -> Decimal:
        """What a refund of ``requested`` (None: all that is left) would return, or the error refusing it."""
        self._require(frozenset({PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED}), "refunded")
        amount = self.refundable if requested is None else money(requested)
        _check_within(amount, self.refundable, "refunded")
        return amount

    def refund_key(self, amount: Decimal) -> str:
        """The gateway idempotency key of refunding ``amount`` now: a retry repeats it, a later refund does not."""
        return f"refund-{self.id}-{self.refunded_amount}-{amount}"

    def refund(self, amount: Decimal, *, now: datetime) -> None:
        amount = self.refund_amount(amount)
        self.refunded_amount += amount
        fully = self.refunded_amount == self.captured_amount
        self._changed(PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED, now)
        self.events.append(PaymentRefunded(self.id, self.document(), amount_refunded=f"{amount:.2f}"))

    def _changed(self, status: PaymentStatus, now: datetime) -> None:
        self.status = status
        self.updated_at = now

    def document(self) -> dict[str, Any]:
        """The payment as the ``payment.*`` events and the export carry it."""
        return {
            "payment_id": str(self.id), "customer_id": self.customer_id,
            "order_id": str(self.order_id) if self.order_id else None, "amount": f"{self.amount:.2f}",
            "currency": self.currency, "status": self.status.value, "captured_amount": f"{self.captured_amount:.2f}",
            "refunded_amount": f"{self.refunded_amount:.2f}",
        }  # fmt: skip

    @classmethod
    def from_document(cls, document: dict[str, Any], *, at: datetime, previous: Payment | None = None) -> Payment:
        """The payment a replicated document describes (whole state); timestamps kept from ``previous``."""
        order_id = document.get("order_id")
        return cls(
            id=uuid.UUID(str(document["payment_id"])), customer_id=int(document["customer_id"]),
            order_id=uuid.UUID(str(order_id)) if order_id else None, amount=money(str(document["amount"])),
            currency=str(document["currency"]), status=PaymentStatus(document["status"]),
            gateway_reference=previous.gateway_reference if previous else "",
            captured_amount=money(str(document["captured_amount"])),
            refunded_amount=money(str(document["refunded_amount"])),
            created_at=previous.created_at if previous else at, updated_at=at,
        )  # fmt: skip
