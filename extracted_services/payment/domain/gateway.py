"""The payment-gateway port: what the payment rules need from a card processor.

Every call carries an idempotency key; a repeated key returns the first outcome, so a retried call can never
charge twice. ``GatewayTransientError`` means "this call may succeed if repeated"; the service layer retries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

__all__ = ["Authorization", "GatewayTransientError", "PaymentGateway"]


class GatewayTransientError(Exception):
    """The gateway could not process the call this time; the same call may succeed on retry."""


@dataclass(frozen=True)
class Authorization:
    approved: bool
    reference: str
    decline_code: str = ""


class PaymentGateway(Protocol):
    def authorize(self, *, amount: Decimal, currency: str, card_token: str, idempotency_key: str) -> Authorization: ...

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None: ...

    def void(self, *, reference: str, idempotency_key: str) -> None: ...

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None: ...
