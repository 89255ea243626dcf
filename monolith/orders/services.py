"""Order writes, including the legacy checkout.

The checkout reaches inventory, payments and shipments through ports (``monolith.orders.ports``): in process
while the monolith owns them, over HTTP once a service does (``monolith.orders.routing`` decides per call). In-process
effects commit or roll back with the order; remote ones cannot, so a failed checkout undoes them after the rollback
(``monolith.orders.compensation``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from functools import partial

from django.db import transaction

from monolith.catalog.selectors import products_by_sku
from monolith.core.errors import Conflict, DomainError, NotFound
from monolith.orders import published
from monolith.orders.bootstrap import checkout_ports
from monolith.orders.compensation import Compensations
from monolith.orders.models import Order, OrderLine
from monolith.orders.ports import ReservationInfo
from monolith.orders.routing import CheckoutPorts
from monolith.orders.status import order_set_status

# Shipment and payment statuses as both sides' APIs spell them (the checkout may not read their tables).
SHIPPED = frozenset({"dispatched", "delivered"})
CANCELLED = "cancelled"
AUTHORIZED = "authorized"
REFUNDABLE = frozenset({"captured", "partially_refunded"})


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


def order_place(*, customer_id: int, lines: Iterable[tuple[str, int]], card_token: str) -> Order:
    """The legacy checkout: validate, reserve stock, authorise payment, create shipments, confirm.

    Raises DomainError (400), InsufficientStock (409), PaymentDeclined (402) or UpstreamUnavailable (503). Any
    failure rolls the order back and undoes what services did for it, so a failed checkout leaves no trace.
    """
    undo = Compensations(label="checkout")
    try:
        with transaction.atomic():
            return _place(customer_id, lines, card_token, undo)
    except BaseException:
        undo.run()  # the transaction has rolled back; the services' effects are undone here
        raise


def _place(customer_id: int, lines: Iterable[tuple[str, int]], card_token: str, undo: Compensations) -> Order:
    priced, currency = _priced_lines(lines)
    total = sum((line.line_total for line in priced), Decimal("0"))
    order = Order.objects.create(customer_id=customer_id, currency=currency, total=total)
    undo.label = f"order {order.id}"
    for line in priced:
        line.order = order
    OrderLine.objects.bulk_create(priced)
    published.order_changed("order.placed", order)
    ports = checkout_ports()
    reservation = _reserve(ports, undo, order, [(line.sku, line.quantity) for line in priced])
    payment_id = _authorize(ports, undo, order, card_token)
    _ship(ports, undo, order, reservation)
    order.reservation_id = reservation.id
    order.payment_id = payment_id
    order.save(update_fields=["reservation_id", "payment_id", "updated_at"])
    return order_set_status(order, Order.Status.CONFIRMED)


def _reserve(ports: CheckoutPorts, undo: Compensations, order: Order, lines: list[tuple[str, int]]) -> ReservationInfo:
    inventory = ports.inventory()
    reserve = partial(inventory.reserve, reference=str(order.id), lines=lines)
    return undo.track(inventory, "release the reservation", reserve, lambda r: inventory.release(reservation_id=r.id))


def _authorize(ports: CheckoutPorts, undo: Compensations, order: Order, card_token: str) -> uuid.UUID:
    payments = ports.payment_for_order(order.id)
    authorize = partial(
        payments.authorize, customer_id=order.customer_id, amount=order.total, currency=order.currency,
        card_token=card_token, order_id=order.id,
    )  # fmt: skip
    return undo.track(payments, "void the payment", authorize, lambda p: payments.void(payment_id=p))


def _ship(ports: CheckoutPorts, undo: Compensations, order: Order, reservation: ReservationInfo) -> None:
    """One shipment per warehouse holding part of the order."""
    shipments = ports.shipment_for_order(order.id)
    for warehouse, items in reservation.per_warehouse().items():
        create = partial(
            shipments.create, order_id=order.id, customer_id=order.customer_id, warehouse=warehouse, lines=items
        )
        undo.track(shipments, f"cancel the {warehouse} shipment", create, lambda s: shipments.cancel(shipment_id=s))


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

    ``customer_id`` limits the call to that customer's orders; None is staff acting on any order. Each step is
    idempotent on both sides, so a cancel that failed halfway (a service unavailable) is completed by retrying it.
    """
    order = _locked_order(order_id, customer_id)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.status not in (Order.Status.PENDING, Order.Status.CONFIRMED):
        raise Conflict(f"A {order.status} order cannot be cancelled.", code="order_not_cancellable")
    ports = checkout_ports()
    shipments = ports.shipments_of_order(order.id)
    if any(s.status in SHIPPED for s in shipments):
        raise Conflict("Part of this order has already shipped.", code="order_already_shipped")
    for shipment in shipments:
        if shipment.status != CANCELLED:
            ports.shipment(shipment.id).cancel(shipment_id=shipment.id)
    if order.reservation_id:
        ports.inventory().release(reservation_id=order.reservation_id)
    if order.payment_id:
        payments = ports.payment(order.payment_id)
        payment = payments.get(payment_id=order.payment_id)
        if payment.status == AUTHORIZED:
            payments.void(payment_id=payment.id)
        elif payment.status in REFUNDABLE:
            payments.refund(payment_id=payment.id)
    order.cancel_reason = reason[:200]
    order.save(update_fields=["cancel_reason", "updated_at"])
    return order_set_status(order, Order.Status.CANCELLED, reason=order.cancel_reason)


@transaction.atomic
def order_fulfil_if_shipped(*, order_id: uuid.UUID) -> Order | None:
    """Once every shipment of a confirmed order has left, capture the payment and fulfil the order."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or order.status != Order.Status.CONFIRMED:
        return order
    ports = checkout_ports()
    live = [s for s in ports.shipments_of_order(order.id) if s.status != CANCELLED]
    if not live or any(s.status not in SHIPPED for s in live):
        return order
    if order.payment_id:
        ports.payment(order.payment_id).capture(payment_id=order.payment_id)
    return order_set_status(order, Order.Status.FULFILLED)
