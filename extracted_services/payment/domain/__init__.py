"""The payment rules: no Django, Celery or I/O here (mypy strict)."""

from __future__ import annotations

from extracted_services.payment.domain.errors import (
    AmountExceedsLimit,
    InvalidAmount,
    InvalidPaymentState,
    PaymentDeclined,
    PaymentGatewayUnavailable,
    PaymentNotFound,
    card_declined,
)
from extracted_services.payment.domain.events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentEvent,
    PaymentRefunded,
    PaymentVoided,
)
from extracted_services.payment.domain.gateway import Authorization, GatewayTransientError, PaymentGateway
from extracted_services.payment.domain.model import Payment, PaymentStatus, check_positive, money

__all__ = [
    "AmountExceedsLimit",
    "Authorization",
    "GatewayTransientError",
    "InvalidAmount",
    "InvalidPaymentState",
    "Payment",
    "PaymentAuthorized",
    "PaymentCaptured",
    "PaymentDeclined",
    "PaymentEvent",
    "PaymentGateway",
    "PaymentGatewayUnavailable",
    "PaymentNotFound",
    "PaymentRefunded",
    "PaymentStatus",
    "PaymentVoided",
    "card_declined",
    "check_positive",
    "money",
]
