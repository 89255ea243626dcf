"""The HTTP adapters: the extracted services' public API, the same paths and bodies as the monolith's own.

Every write carries an ``Idempotency-Key`` derived from the record and the step (``order:<id>:reserve``,
``payment:<id>:capture``), so a retry or a replay returns the first outcome and never doubles an effect.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from monolith.orders.adapters.service_client import ServiceClient
from monolith.orders.ports import HeldLine, PaymentInfo, ReservationInfo, ShipmentInfo

logger = logging.getLogger(__name__)

INVENTORY_PERMS = ("inventory.reserve_stock", "inventory.view_reservation")
PAYMENT_PERMS = (
    "payments.capture_payment",
    "payments.refund_payment",
    "payments.view_payment",
    "payments.void_payment",
)
SHIPMENT_PERMS = ("shipments.cancel_shipment", "shipments.create_shipment", "shipments.view_shipment")
PAGE_SIZE = 200  # the API's largest page


def _lines(lines: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": quantity} for sku, quantity in lines]


class HttpInventory:
    remote = True

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def reserve(self, *, reference: str, lines: Sequence[tuple[str, int]]) -> ReservationInfo:
        body = self._client.call(
            "POST", "/api/inventory/reservations/", json={"reference": reference, "lines": _lines(lines)},
            idempotency_key=f"order:{reference}:reserve", perms=INVENTORY_PERMS,
        )  # fmt: skip
        held = tuple(HeldLine(line["warehouse"], line["sku"], int(line["quantity"])) for line in body["lines"])
        return ReservationInfo(id=uuid.UUID(body["id"]), lines=held)

    def release(self, *, reservation_id: uuid.UUID) -> None:
        self._client.call(
            "POST", f"/api/inventory/reservations/{reservation_id}/release/",
            idempotency_key=f"reservation:{reservation_id}:release", perms=INVENTORY_PERMS,
        )  # fmt: skip

    def consume(self, *, reference: str, warehouse: str) -> None:
        # Nothing to call: the inventory service, owning inventory writes, consumes the stock itself when it
        # receives the shipment.dispatched event (docs/extraction.md: acting subscriptions follow ownership).
        logger.debug("stock for %s at %s is consumed by the inventory service", reference, warehouse)


class HttpPayments:
    remote = True

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def authorize(
        self, *, customer_id: int, amount: Decimal, currency: str, card_token: str, order_id: uuid.UUID
    ) -> uuid.UUID:
        body = {"amount": f"{amount:.2f}", "currency": currency, "card_token": card_token, "order_id": str(order_id)}
        # The payment API takes the customer from the token: this call is made on the customer's behalf.
        answer = self._client.call(
            "POST", "/api/payments/", json=body, idempotency_key=f"order:{order_id}:authorize", subject=customer_id
        )
        return uuid.UUID(answer["id"])

    def _act(self, payment_id: uuid.UUID, action: str) -> None:
        self._client.call(
            "POST", f"/api/payments/{payment_id}/{action}/", json={},
            idempotency_key=f"payment:{payment_id}:{action}", perms=PAYMENT_PERMS,
        )  # fmt: skip

    def capture(self, *, payment_id: uuid.UUID) -> None:
        self._act(payment_id, "capture")

    def void(self, *, payment_id: uuid.UUID) -> None:
        self._act(payment_id, "void")

    def refund(self, *, payment_id: uuid.UUID) -> None:
        self._act(payment_id, "refund")

    def get(self, *, payment_id: uuid.UUID) -> PaymentInfo:
        p = self._client.call("GET", f"/api/payments/{payment_id}/", perms=PAYMENT_PERMS)
        return PaymentInfo(
            uuid.UUID(p["id"]),
            p["status"],
            Decimal(p["amount"]),
            Decimal(p["captured_amount"]),
            Decimal(p["refunded_amount"]),
        )


class HttpShipments:
    remote = True

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def create(
        self, *, order_id: uuid.UUID, customer_id: int, warehouse: str, lines: Sequence[tuple[str, int]]
    ) -> uuid.UUID:
        body = {"order_id": str(order_id), "customer_id": customer_id, "warehouse": warehouse, "lines": _lines(lines)}
        answer = self._client.call(
            "POST", "/api/shipments/", json=body, idempotency_key=f"order:{order_id}:ship:{warehouse}",
            perms=SHIPMENT_PERMS,
        )  # fmt: skip
        return uuid.UUID(answer["id"])

    def cancel(self, *, shipment_id: uuid.UUID) -> None:
        self._client.call(
            "POST", f"/api/shipments/{shipment_id}/cancel/",
            idempotency_key=f"shipment:{shipment_id}:cancel", perms=SHIPMENT_PERMS,
        )  # fmt: skip

    def list_for_order(self, *, order_id: uuid.UUID) -> list[ShipmentInfo]:
        found: list[ShipmentInfo] = []
        offset = 0
        while True:
            params = {"order_id": str(order_id), "limit": str(PAGE_SIZE), "offset": str(offset)}
            page = self._client.call("GET", "/api/shipments/", params=params, perms=SHIPMENT_PERMS)
            found.extend(ShipmentInfo(uuid.UUID(s["id"]), s["warehouse"], s["status"]) for s in page["results"])
            if not page.get("next") or not page["results"]:
                return found
            offset += len(page["results"])
