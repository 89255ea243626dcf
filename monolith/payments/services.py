"""Payment writes. Every gateway call is retried on transient errors and carries an idempotency key
derived from the payment, so a retry can never charge twice. Every write starts with capability_write_guard:
once payments are fenced (cut over to the payment service), nothing is written here.

A payment made for an order gets an id carrying the order's bucket (``strangler_proxy.record_ids``), so later
calls naming only the payment reach the side that owns the order's records."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from monolith.core.errors import Conflict, DomainError, NotFound, PaymentDeclined, UpstreamUnavailable
from monolith.core.ownership import capability_write_guard
from monolith.payments import published
from monolith.payments.gateway import GatewayTransientError, get_gateway
from monolith.payments.models import Payment
from strangler_proxy.buckets import bucket_of
from strangler_proxy.record_ids import mint_record_id

T = TypeVar("T")
GATEWAY_ATTEMPTS = 3
CAPABILITY = "payments"


def _with_retries(call: Callable[[], T]) -> T:
    retrying = Retrying(
        retry=retry_if_exception_type(GatewayTransientError),
        stop=stop_after_attempt(GATEWAY_ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.02, max=0.5),
    )
    try:
        return retrying(call)
    except RetryError:
        raise UpstreamUnavailable(
            "The payment gateway is not answering; nothing was charged. Try again.", code="payment_gateway_unavailable"
        ) from None


def _locked(payment_id: uuid.UUID) -> Payment:
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.", code="payment_not_found")
    return payment


def _check_amount(amount: Decimal, limit: Decimal, what: str) -> None:
    if amount <= 0:
        raise DomainError("The amount must be positive.", code="invalid_amount")
    if amount > limit:
        raise Conflict(
            f"The amount exceeds what can be {what} ({limit}).",
            code="amount_exceeds_limit",
            details={"limit": str(limit)},
        )


def _require(payment: Payment, allowed: set[str], action: str) -> None:
    if payment.status not in allowed:
        raise Conflict(
            f"A payment that is {payment.status} cannot be {action}.",
            code="invalid_payment_state",
            details={"status": payment.status},
        )


@transaction.atomic
def payment_authorize(
    *, customer_id: int, amount: Decimal, currency: str, card_token: str, order_id: uuid.UUID | None = None
) -> Payment:
    capability_write_guard(CAPABILITY)
    if amount <= 0:
        raise DomainError("The amount must be positive.", code="invalid_amount")
    payment_id = uuid.uuid4() if order_id is None else mint_record_id(bucket_of(str(order_id)))
    result = _with_retries(
        lambda: get_gateway().authorize(
            amount=amount, currency=currency, card_token=card_token, idempotency_key=f"auth-{payment_id}"
        )
    )
    if not result.approved:
        raise PaymentDeclined("The card was declined.", details={"decline_code": result.decline_code})
    payment = Payment.objects.create(
        id=payment_id,
        customer_id=customer_id,
        order_id=order_id,
        amount=amount,
        currency=currency,
        status=Payment.Status.AUTHORIZED,
        gateway_reference=result.reference,
    )
    published.payment_changed("payment.authorized", payment)
    return payment


@transaction.atomic
def payment_capture(*, payment_id: uuid.UUID, amount: Decimal | None = None) -> Payment:
    capability_write_guard(CAPABILITY)
    payment = _locked(payment_id)
    _require(payment, {Payment.Status.AUTHORIZED}, "captured")
    amount = payment.amount if amount is None else amount
    _check_amount(amount, payment.amount, "captured")
    _with_retries(
        lambda: get_gateway().capture(
            reference=payment.gateway_reference, amount=amount, idempotency_key=f"capture-{payment.id}"
        )
    )
    payment.captured_amount = amount
    payment.status = Payment.Status.CAPTURED
    payment.save(update_fields=["captured_amount", "status", "updated_at"])
    published.payment_changed("payment.captured", payment)
    return payment


@transaction.atomic
def payment_void(*, payment_id: uuid.UUID) -> Payment:
    capability_write_guard(CAPABILITY)
    payment = _locked(payment_id)
    if payment.status == Payment.Status.VOIDED:
        return payment
    _require(payment, {Payment.Status.AUTHORIZED}, "voided")
    _with_retries(lambda: get_gateway().void(reference=payment.gateway_reference, idempotency_key=f"void-{payment.id}"))
    payment.status = Payment.Status.VOIDED
    payment.save(update_fields=["status", "updated_at"])
    published.payment_changed("payment.voided", payment)
    return payment


@transaction.atomic
def payment_refund(*, payment_id: uuid.UUID, amount: Decimal | None = None) -> Payment:
    capability_write_guard(CAPABILITY)
    payment = _locked(payment_id)
    _require(payment, {Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED}, "refunded")
    refundable = payment.captured_amount - payment.refunded_amount
    amount = refundable if amount is None else amount
    _check_amount(amount, refundable, "refunded")
    key = f"refund-{payment.id}-{payment.refunded_amount}-{amount}"
    _with_retries(lambda: get_gateway().refund(reference=payment.gateway_reference, amount=amount, idempotency_key=key))
    payment.refunded_amount += amount
    fully = payment.refunded_amount == payment.captured_amount
    payment.status = Payment.Status.REFUNDED if fully else Payment.Status.PARTIALLY_REFUNDED
    payment.save(update_fields=["refunded_amount", "status", "updated_at"])
    published.payment_changed("payment.refunded", payment, amount_refunded=f"{amount:.2f}")
    return payment
