"""The in-process adapters: the monolith's own services and selectors, inside the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from monolith.inventory.selectors import reservation_get
from monolith.inventory.services import reservation_consume, reservation_create, reservation_release
from monolith.orders.ports import HeldLine, PaymentInfo, ReservationInfo, ShipmentInfo
from monolith.payments.selectors import payment_get
from monolith.payments.services import payment_authorize, payment_capture, payment_refund, payment_void
from monolith.shipments.selectors import shipment_list
from monolith.shipments.services import shipment_cancel, shipment_create


class LocalInventory:
    remote = False

    def reserve(self, *, reference: str, lines: Sequence[tuple[str, int]]) -> ReservationInfo:
        reservation = reservation_create(reference=reference, lines=lines)
        held = reservation_get(reservation_id=reservation.id).lines.all()
        return ReservationInfo(
            id=reservation.id, lines=tuple(HeldLine(line.warehouse.code, line.sku, line.quantity) for line in held)
        )

    def release(self, *, reservation_id: uuid.UUID) -> None:
        reservation_release(reservation_id=reservation_id)

    def consume(self, *, reference: str, warehouse: str) -> None:
        reservation_consume(reference=reference, warehouse_code=warehouse)


class LocalPayments:
    remote = False

    def authorize(
        self, *, customer_id: int, amount: Decimal, currency: str, card_token: str, order_id: uuid.UUID
    ) -> uuid.UUID:
        payment = payment_authorize(
            customer_id=customer_id, amount=amount, currency=currency, card_token=card_token, order_id=order_id
        )
        return payment.id

    def capture(self, *, payment_id: uuid.UUID) -> None:
        payment_capture(payment_id=payment_id)

    def void(self, *, payment_id: uuid.UUID) -> None:
        payment_void(payment_id=payment_id)

    def refund(self, *, payment_id: uuid.UUID) -> None:
        payment_refund(payment_id=payment_id)

    def get(self, *, payment_id: uuid.UUID) -> PaymentInfo:
        p = payment_get(payment_id=payment_id)
        return PaymentInfo(p.id, p.status, p.amount, p.captured_amount, p.refunded_amount)


class LocalShipments:
    remote = False

    def create(
        self, *, order_id: uuid.UUID, customer_id: int, warehouse: str, lines: Sequence[tuple[str, int]]
    ) -> uuid.UUID:
        return shipment_create(order_id=order_id, customer_id=customer_id, warehouse=warehouse, lines=lines).id

    def cancel(self, *, shipment_id: uuid.UUID) -> None:
        shipment_cancel(shipment_id=shipment_id)

    def list_for_order(self, *, order_id: uuid.UUID) -> list[ShipmentInfo]:
        return [ShipmentInfo(s.id, s.warehouse, s.status) for s in shipment_list(order_id=order_id)]
