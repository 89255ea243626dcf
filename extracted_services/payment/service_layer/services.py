"""Payment use cases. Every gateway call is retried on transient errors and carries an idempotency key
derived from the payment, so a retry can never charge twice (as ``monolith.payments.services``).

::

    deps = bootstrap.payment_dependencies()
    payment = payment_capture(deps, payment_id=pid, amount=None)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from extracted_services.payment.domain import (
    GatewayTransientError,
    Payment,
    PaymentGateway,
    PaymentGatewayUnavailable,
    PaymentNotFound,
    card_declined,
    check_positive,
)
from extracted_services.payment.service_layer.unit_of_work import PaymentRepository, UnitOfWork

__all__ = [
    "GATEWAY_ATTEMPTS",
    "PaymentDependencies",
    "payment_authorize",
    "payment_capture",
    "payment_get",
    "payment_refund",
    "payment_void",
]

T = TypeVar("T")
GATEWAY_ATTEMPTS = 3


@dataclass(frozen=True, kw_only=True)
class PaymentDependencies:
    """What the use cases need, chosen once by ``bootstrap``."""

    uow: Callable[[], UnitOfWork]
    reader: Callable[[], PaymentRepository]  # reads outside a unit of work: no transaction, no locks
    gateway: PaymentGateway
    new_id: Callable[[uuid.UUID | None], uuid.UUID]  # order id (or None) -> a new payment id
    clock: Callable[[], datetime]
    retry_wait_multiplier: float = 0.02


def _with_retries(deps: PaymentDependencies, call: Callable[[], T]) -> T:
    retrying = Retrying(
        retry=retry_if_exception_type(GatewayTransientError),
        stop=stop_after_attempt(GATEWAY_ATTEMPTS),
        wait=wait_random_exponential(multiplier=deps.retry_wait_multiplier, max=0.5),
    )
    try:
        return retrying(call)
    except RetryError:
        raise PaymentGatewayUnavailable() from None


def payment_authorize(
    deps: PaymentDependencies,
    *,
    customer_id: int,
    amount: Decimal,
    currency: str,
    card_token: str,
    order_id: uuid.UUID | None = None,
) -> Payment:
    check_positive(amount)
    payment_id = deps.new_id(order_id)
    key = f"auth-{payment_id}"
    result = _with_retries(
        deps,
        lambda: deps.gateway.authorize(amount=amount, currency=currency, card_token=card_token, idempotency_key=key),
    )
    if not result.approved:
        raise card_declined(result.decline_code)
    with deps.uow() as uow:
        payment = Payment.authorized(
            id=payment_id, customer_id=customer_id, order_id=order_id, amount=amount, currency=currency,
            gateway_reference=result.reference, now=deps.clock(),
        )  # fmt: skip
        uow.payments.add(payment)
        uow.commit()
    return payment


def _locked(uow: UnitOfWork, payment_id: uuid.UUID) -> Payment:
    payment = uow.payments.get_for_update(payment_id)
    if payment is None:
        raise PaymentNotFound()
    return payment


def payment_capture(deps: PaymentDependencies, *, payment_id: uuid.UUID, amount: Decimal | None = None) -> Payment:
    with deps.uow() as uow:
        payment = _locked(uow, payment_id)
        to_capture = payment.capture_amount(amount)
        key = f"capture-{payment.id}"
        _with_retries(
            deps,
            lambda: deps.gateway.capture(reference=payment.gateway_reference, amount=to_capture, idempotency_key=key),
        )
        payment.capture(to_capture, now=deps.clock())
        uow.commit()
    return payment


def payment_void(deps: PaymentDependencies, *, payment_id: uuid.UUID) -> Payment:
    with deps.uow() as uow:
        payment = _locked(uow, payment_id)
        if not payment.needs_void():
            return payment
        key = f"void-{payment.id}"
        _with_retries(deps, lambda: deps.gateway.void(reference=payment.gateway_reference, idempotency_key=key))
        payment.void(now=deps.clock())
        uow.commit()
    return payment


def payment_refund(deps: PaymentDependencies, *, payment_id: uuid.UUID, amount: Decimal | None = None) -> Payment:
    with deps.uow() as uow:
        payment = _locked(uow, payment_id)
        to_refund = payment.refund_amount(amount)
        key = payment.refund_key(to_refund)
        _with_retries(
            deps,
            lambda: deps.gateway.refund(reference=payment.gateway_reference, amount=to_refund, idempotency_key=key),
        )
        payment.refund(to_refund, now=deps.clock())
        uow.commit()
    return payment


def payment_get(deps: PaymentDependencies, *, payment_id: uuid.UUID, customer_id: int | None = None) -> Payment:
    """A payment; with ``customer_id``, only that customer's (others are reported as not found)."""
    payment = deps.reader().get(payment_id, customer_id=customer_id)
    if payment is None:
        raise PaymentNotFound()
    return payment
