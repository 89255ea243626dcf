"""Facts a payment records as it changes. Each carries the payment's whole state after the change
(``document``, the catalogue's ``payment.*`` data) so a consumer needs nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["PaymentAuthorized", "PaymentCaptured", "PaymentEvent", "PaymentRefunded", "PaymentVoided"]


@dataclass(frozen=True)
class PaymentEvent:
    type: ClassVar[str]
    payment_id: uuid.UUID
    document: Mapping[str, Any] = field(repr=False)

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.document)


@dataclass(frozen=True)
class PaymentAuthorized(PaymentEvent):
    type: ClassVar[str] = "payment.authorized"


@dataclass(frozen=True)
class PaymentCaptured(PaymentEvent):
    type: ClassVar[str] = "payment.captured"


@dataclass(frozen=True)
class PaymentVoided(PaymentEvent):
    type: ClassVar[str] = "payment.voided"


@dataclass(frozen=True)
class PaymentRefunded(PaymentEvent):
    type: ClassVar[str] = "payment.refunded"
    amount_refunded: str = ""

    @property
    def data(self) -> dict[str, Any]:
        return {**self.document, "amount_refunded": self.amount_refunded}
