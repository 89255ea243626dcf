"""Order writes, including the legacy checkout: everything in one synchronous transaction."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from monolith.catalog.selectors import products_by_sku
from monolith.core.errors import Conflict, DomainError, NotFound
from monolith.inventory.selectors import reservation_get
from monolith.inventory.services import reservation_create, reservation_release
from monolith.orders import published
from monolith.orders.models import Order, OrderLine
from monolith.orders.status import order_set_status
from monolith.payments.models import Payment
from monolith.payments.selectors import payment_get
from monolith.payments.services import payment_authorize, payment_capture, payment_refund, payment_void
from monolith.shipments.models import Shipment
from monolith.shipments.selectors import shipment_list
from monolith.shipments.services import shipment_cancel, shipment_create

SHIPPED = {Shipment.Status.DISPATCHED, Shipment.Status.DELIVERED}


def _priced_lines(lines: Iterable[tuple[str, int]]) -> tuple[list[OrderLine], str]:
    wanted: Counter[str] = Counter()
    for sku, quantity in lines:
        wanted[sku] += quantity
    if not wanted:
        raise DomainError("An order needs at least one line.", code="empty_order")
    products = products_by_sku(skus=wanted)
    unknown = sorted(sku for sku in wanted if sku not in products or not products[sku].active)
    if unknown:
        raise DomainError("Unknown or unavailable products.", code="unknown_sku", details={"skus": unknown})
    currencies = {products[sku].currency for sku in wanted}
    if len(currencies) > 1:
        raise DomainError(
            "All products in an order must share a currency.",
            code="mixed_currencies",
            details={"currencies": sorted(currencies)},
        )
    priced = [
        OrderLine(
            sku=sku,
            name=products[sku].name,
            unit_price=products[sku].price,
            quantity=quantity,
            line_total=products[sku].price * quantity,
        )
        for sku, quantity in sorted(wanted.items())
    ]
    return priced, currencies.pop()


@transaction.atomic
def order_place(*, customer_id: int, lines: Iterable[tuple[str, int]], card_token: str) -> Order:
    """The legacy checkout: validate, reserve stock, authorise payment, create shipments, confirm.

    Raises DomainError (400), InsufficientStock (409), PaymentDeclined (402) or UpstreamUnavailable (503);
    any of them rolls back everything, so a failed checkout leaves no trace.
    """
    priced, currency = _priced_lines(lines)
    total = sum((line.line_total for line in priced), Decimal("0"))
    order = Order.objects.create(customer_id=customer_id, currency=currency, total=total)
    for line in priced:
        line.order = order
    OrderLine.objects.bulk_create(priced)
    published.order_changed("order.placed", order)
    reservation = reservation_create(reference=str(order.id), lines=[(line.sku, line.quantity) for line in priced])
    payment = payment_authorize(
        customer_id=customer_id, amount=total, currency=currency, card_token=card_token, order_id=order.id
    )
    per_warehouse: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for held in reservation_get(reservation_id=reservation.id).lines.all():
        per_warehouse[held.warehouse.code].append((held.sku, held.quantity))
    for warehouse, items in per_warehouse.items():
        shipment_create(order_id=order.id, customer_id=customer_id, warehouse=warehouse, lines=items)
    order.reservation_id = reservation.id
    order.payment_id = payment.id
    order.save(update_fields=["reservation_id", "payment_id", "updated_at"])
    return order_set_status(order, Order.Status.CONFIRMED)


def _locked_order(order_id: uuid.UUID, customer_id: int | None) -> Order:
    orders = Order.objects.select_for_update().filter(pk=order_id)
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    order = orders.first()
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    return order


@transaction.atomic
def order_cancel(*, order_id: uuid.UUID, customer_id: int | None, reason: str = "") -> Order:
    """Cancel and compensate: cancel shipments, release stock, void (or refund) the payment.

    ``customer_id`` limits the call to that customer's orders; None is staff acting on any order.
    """
    order = _locked_order(order_id, customer_id)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.status not in (Order.Status.PENDING, Order.Status.CONFIRMED):
        raise Conflict(f"A {order.status} order cannot be cancelled.", code="order_not_cancellable")
    shipments = list(shipment_list(order_id=order.id))
    if any(s.status in SHIPPED for s in shipments):
        raise Conflict("Part of this order has already shipped.", code="order_already_shipped")
    for shipment in shipments:
        shipment_cancel(shipment_id=shipment.id)
    if order.reservation_id:
        reservation_release(reservation_id=order.reservation_id)
    if order.payment_id:
        payment = payment_get(payment_id=order.payment_id)
        if payment.status == Payment.Status.AUTHORIZED:
            payment_void(payment_id=payment.id)
        elif payment.status in (Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED):
            payment_refund(payment_id=payment.id)
    order.cancel_reason = reason[:200]
    order.save(update_fields=["cancel_reason", "updated_at"])
    return order_set_status(order, Order.Status.CANCELLED, reason=order.cancel_reason)


@transaction.atomic
def order_fulfil_if_shipped(*, order_id: uuid.UUID) -> Order | None:
    """Once every shipment of a confirmed order has left, capture the payment and fulfil the order."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or order.status != Order.Status.CONFIRMED:
        return order
    live = [s for s in shipment_list(order_id=order.id) if s.status != Shipment.Status.CANCELLED]
    if not live or any(s.status not in SHIPPED for s in live):
        return order
    if order.payment_id:
        payment_capture(payment_id=order.payment_id)
    return order_set_status(order, Order.Status.FULFILLED)
