"""The payment service's rules and use cases, with an in-memory unit of work and the fake gateway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace, TracebackType
from typing import Any

import pytest

from extracted_services.payment.adapters.fake_gateway import FakeGateway
from extracted_services.payment.domain import (
    Authorization,
    GatewayTransientError,
    Payment,
    PaymentEvent,
    PaymentStatus,
)
from extracted_services.payment.service_layer import services
from extracted_services.payment.service_layer.services import PaymentDependencies
from monolith.core.errors import DomainError
from strangler_proxy.buckets import bucket_of
from strangler_proxy.record_ids import embedded_bucket, mint_record_id

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class FakeRepository:
    def __init__(self, store: dict[uuid.UUID, Payment]) -> None:
        self.store = store
        self.touched: list[Payment] = []

    def add(self, payment: Payment) -> None:
        self.touched.append(payment)

    def get(self, payment_id: uuid.UUID, *, customer_id: int | None = None) -> Payment | None:
        payment = self.store.get(payment_id)
        if payment is None or (customer_id is not None and payment.customer_id != customer_id):
            return None
        return payment

    def get_for_update(self, payment_id: uuid.UUID) -> Payment | None:
        payment = self.store.get(payment_id)
        if payment is not None:
            self.touched.append(payment)
        return payment


class FakeUnitOfWork:
    """Commits by keeping the touched payments and moving their events to ``published``."""

    def __init__(self, store: dict[uuid.UUID, Payment], published: list[PaymentEvent]) -> None:
        self.payments = FakeRepository(store)
        self.published = published

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def commit(self) -> None:
        for payment in self.payments.touched:
            self.payments.store[payment.id] = payment
            self.published.extend(payment.events)
            payment.events.clear()


class ScriptedGateway(FakeGateway):
    """The fake gateway, plus: fail every call with a transient error when ``down``; count calls."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls: list[tuple[str, str]] = []

    def _call(self, what: str, key: str) -> None:
        self.calls.append((what, key))
        if self.down:
            raise GatewayTransientError("down")

    def authorize(self, *, amount: Decimal, currency: str, card_token: str, idempotency_key: str) -> Authorization:
        if self.down:
            self._call("authorize", idempotency_key)
        return super().authorize(
            amount=amount, currency=currency, card_token=card_token, idempotency_key=idempotency_key
        )

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        self._call("capture", idempotency_key)

    def void(self, *, reference: str, idempotency_key: str) -> None:
        self._call("void", idempotency_key)

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        self._call("refund", idempotency_key)


def _new_id(order_id: uuid.UUID | None) -> uuid.UUID:
    return uuid.uuid4() if order_id is None else mint_record_id(bucket_of(str(order_id)))


@pytest.fixture
def world() -> Any:
    w = SimpleNamespace(store={}, published=[], gateway=ScriptedGateway(), now=T0)
    w.deps = PaymentDependencies(
        uow=lambda: FakeUnitOfWork(w.store, w.published), reader=lambda: FakeRepository(w.store),
        gateway=w.gateway, new_id=_new_id, clock=lambda: w.now, retry_wait_multiplier=0.0,
    )  # fmt: skip
    return w


def _authorize(world: Any, amount: str = "19.90", card: str = "tok_visa", **kwargs: Any) -> Payment:
    return services.payment_authorize(
        world.deps, customer_id=7, amount=Decimal(amount), currency="EUR", card_token=card, **kwargs
    )


def _error(excinfo: pytest.ExceptionInfo[DomainError]) -> tuple[int, str, Any]:
    return excinfo.value.status, excinfo.value.code, excinfo.value.details


def test_authorize_records_the_payment_and_its_event(world: Any) -> None:
    order_id = uuid.uuid4()
    payment = _authorize(world, order_id=order_id)
    assert world.store[payment.id] is payment
    assert (payment.status, payment.amount, payment.captured_amount) == ("authorized", Decimal("19.90"), 0)
    assert payment.gateway_reference.startswith("ch_")
    assert [(e.type, e.data) for e in world.published] == [
        ("payment.authorized", {
            "payment_id": str(payment.id), "customer_id": 7, "order_id": str(order_id), "amount": "19.90",
            "currency": "EUR", "status": "authorized", "captured_amount": "0.00", "refunded_amount": "0.00",
        }),
    ]  # fmt: skip


def test_an_order_s_payment_id_carries_the_order_s_bucket_and_others_are_legacy_shaped(world: Any) -> None:
    order_id = uuid.uuid4()
    assert embedded_bucket(_authorize(world, order_id=order_id).id) == bucket_of(str(order_id))
    assert _authorize(world).id.version == 4


@pytest.mark.parametrize(
    ("card", "decline_code"), [("tok_chargeDeclined", "card_declined"), ("tok_unknown", "invalid_card")]
)
def test_a_declined_card_leaves_no_payment(world: Any, card: str, decline_code: str) -> None:
    with pytest.raises(DomainError) as excinfo:
        _authorize(world, card=card)
    assert _error(excinfo) == (402, "payment_declined", {"decline_code": decline_code})
    assert world.store == {} and world.published == []


def test_a_transient_gateway_error_is_retried_invisibly(world: Any) -> None:
    assert _authorize(world, card="tok_processingError").status == "authorized"


def test_a_gateway_that_stays_down_is_503_and_nothing_changes(world: Any) -> None:
    payment = _authorize(world)
    world.gateway.down = True
    with pytest.raises(DomainError) as excinfo:
        services.payment_capture(world.deps, payment_id=payment.id)
    assert _error(excinfo)[:2] == (503, "payment_gateway_unavailable")
    assert world.gateway.calls == [("capture", f"capture-{payment.id}")] * services.GATEWAY_ATTEMPTS
    assert payment.status == "authorized" and len(world.published) == 1


@pytest.mark.parametrize("amount", ["0", "-1.00"])
def test_a_non_positive_amount_is_invalid(world: Any, amount: str) -> None:
    with pytest.raises(DomainError) as excinfo:
        _authorize(world, amount=amount)
    assert _error(excinfo) == (400, "invalid_amount", {})


def test_capture_then_refund_in_parts(world: Any) -> None:
    payment = _authorize(world)
    world.now = T0 + timedelta(minutes=1)
    services.payment_capture(world.deps, payment_id=payment.id)
    assert (payment.status, payment.captured_amount, payment.updated_at) == ("captured", Decimal("19.90"), world.now)
    with pytest.raises(DomainError) as excinfo:
        services.payment_capture(world.deps, payment_id=payment.id)
    assert _error(excinfo) == (409, "invalid_payment_state", {"status": "captured"})
    services.payment_refund(world.deps, payment_id=payment.id, amount=Decimal("5.00"))
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("5.00"))
    with pytest.raises(DomainError) as excinfo:
        services.payment_refund(world.deps, payment_id=payment.id, amount=Decimal("20.00"))
    assert _error(excinfo) == (409, "amount_exceeds_limit", {"limit": "14.90"})
    assert str(excinfo.value) == "The amount exceeds what can be refunded (14.90)."
    services.payment_refund(world.deps, payment_id=payment.id)
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("19.90"))
    refunds = [e.data for e in world.published if e.type == "payment.refunded"]
    assert [(d["amount_refunded"], d["status"]) for d in refunds] == [
        ("5.00", "partially_refunded"),
        ("14.90", "refunded"),
    ]
    assert [key for what, key in world.gateway.calls if what == "refund"] == [
        f"refund-{payment.id}-0.00-5.00", f"refund-{payment.id}-5.00-14.90",
    ]  # fmt: skip


def test_partial_capture_within_the_authorised_amount(world: Any) -> None:
    payment = _authorize(world)
    with pytest.raises(DomainError) as excinfo:
        services.payment_capture(world.deps, payment_id=payment.id, amount=Decimal("19.91"))
    assert _error(excinfo) == (409, "amount_exceeds_limit", {"limit": "19.90"})
    services.payment_capture(world.deps, payment_id=payment.id, amount=Decimal("10"))
    assert payment.captured_amount == Decimal("10.00") and payment.refundable == Decimal("10.00")


def test_refund_needs_a_capture(world: Any) -> None:
    payment = _authorize(world)
    with pytest.raises(DomainError) as excinfo:
        services.payment_refund(world.deps, payment_id=payment.id)
    assert _error(excinfo) == (409, "invalid_payment_state", {"status": "authorized"})
    assert str(excinfo.value) == "A payment that is authorized cannot be refunded."


def test_void_is_idempotent_and_final(world: Any) -> None:
    payment = _authorize(world)
    for _ in range(2):
        assert services.payment_void(world.deps, payment_id=payment.id).status == "voided"
    assert [e.type for e in world.published] == ["payment.authorized", "payment.voided"]
    assert [what for what, _ in world.gateway.calls] == ["void"]
    with pytest.raises(DomainError) as excinfo:
        services.payment_capture(world.deps, payment_id=payment.id)
    assert _error(excinfo) == (409, "invalid_payment_state", {"status": "voided"})


def test_a_captured_payment_cannot_be_voided(world: Any) -> None:
    payment = _authorize(world)
    services.payment_capture(world.deps, payment_id=payment.id)
    with pytest.raises(DomainError) as excinfo:
        services.payment_void(world.deps, payment_id=payment.id)
    assert _error(excinfo) == (409, "invalid_payment_state", {"status": "captured"})


def test_unknown_and_other_customers_payments_are_not_found(world: Any) -> None:
    payment = _authorize(world)
    assert services.payment_get(world.deps, payment_id=payment.id, customer_id=7) is payment
    assert services.payment_get(world.deps, payment_id=payment.id) is payment
    for call in (
        lambda: services.payment_get(world.deps, payment_id=payment.id, customer_id=8),
        lambda: services.payment_get(world.deps, payment_id=uuid.uuid4()),
        lambda: services.payment_void(world.deps, payment_id=uuid.uuid4()),
    ):
        with pytest.raises(DomainError) as excinfo:
            call()
        assert _error(excinfo) == (404, "payment_not_found", {})


def test_a_replicated_document_round_trips_and_keeps_what_documents_do_not_carry() -> None:
    original = Payment.authorized(
        id=uuid.uuid4(), customer_id=3, order_id=None, amount=Decimal("7.5"), currency="USD",
        gateway_reference="ch_1", now=T0,
    )  # fmt: skip
    original.capture(Decimal("7.50"), now=T0)
    later = T0 + timedelta(hours=1)
    copy = Payment.from_document(original.document(), at=later, previous=original)
    assert copy.document() == original.document()
    assert (copy.gateway_reference, copy.created_at, copy.updated_at) == ("ch_1", T0, later)
    assert copy.status is PaymentStatus.CAPTURED and copy.events == []
    fresh = Payment.from_document(original.document(), at=later)
    assert (fresh.gateway_reference, fresh.created_at) == ("", later)
