"""The payment rules' errors, each with the monolith's code, message and details (the API contract).

::

    DomainError (monolith.core.errors)
     ├── InvalidAmount               400 invalid_amount
     ├── PaymentNotFound             404 payment_not_found
     ├── AmountExceedsLimit          409 amount_exceeds_limit      {"limit": "14.90"}
     ├── InvalidPaymentState         409 invalid_payment_state     {"status": "captured"}
     ├── PaymentDeclined             402 payment_declined          {"decline_code": "card_declined"}
     └── PaymentGatewayUnavailable   503 payment_gateway_unavailable

They subclass the shared contract kernel's tree, so the kernel's exception handler renders them unchanged.
"""

from __future__ import annotations

from decimal import Decimal

from monolith.core.errors import Conflict, DomainError, NotFound, PaymentDeclined, UpstreamUnavailable

__all__ = [
    "AmountExceedsLimit",
    "InvalidAmount",
    "InvalidPaymentState",
    "PaymentDeclined",
    "PaymentGatewayUnavailable",
    "PaymentNotFound",
    "card_declined",
]


class InvalidAmount(DomainError):
    code = "invalid_amount"

    def __init__(self) -> None:
        super().__init__("The amount must be positive.")


class PaymentNotFound(NotFound):
    code = "payment_not_found"

    def __init__(self) -> None:
        super().__init__("No such payment.")


class AmountExceedsLimit(Conflict):
    code = "amount_exceeds_limit"

    def __init__(self, *, limit: Decimal, what: str) -> None:
        super().__init__(f"The amount exceeds what can be {what} ({limit}).", details={"limit": str(limit)})


class InvalidPaymentState(Conflict):
    code = "invalid_payment_state"

    def __init__(self, *, status: str, action: str) -> None:
        super().__init__(f"A payment that is {status} cannot be {action}.", details={"status": status})


class PaymentGatewayUnavailable(UpstreamUnavailable):
    code = "payment_gateway_unavailable"

    def __init__(self) -> None:
        super().__init__("The payment gateway is not answering; nothing was charged. Try again.")


def card_declined(decline_code: str) -> PaymentDeclined:
    return PaymentDeclined("The card was declined.", details={"decline_code": decline_code})
