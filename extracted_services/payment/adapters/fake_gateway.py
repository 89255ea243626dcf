"""The built-in fake gateway driven by test card tokens (the same table as ``monolith.payments.gateway``).

=========================  =====================================================
token                      outcome
=========================  =====================================================
``tok_visa``               approved (also ``tok_mastercard``, ``tok_amex``)
``tok_chargeDeclined``     declined, code ``card_declined``
``tok_insufficientFunds``  declined, code ``insufficient_funds``
``tok_processingError``    transient failure on the first attempt, approved on retry
anything else              declined, code ``invalid_card``
=========================  =====================================================

Like a real gateway, every call carries an idempotency key and a repeated key returns the first outcome.
"""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

from extracted_services.payment.domain import Authorization, GatewayTransientError

__all__ = ["APPROVING_TOKENS", "DECLINES", "TRANSIENT_ONCE", "FakeGateway"]

APPROVING_TOKENS = frozenset({"tok_visa", "tok_mastercard", "tok_amex"})
DECLINES = {"tok_chargeDeclined": "card_declined", "tok_insufficientFunds": "insufficient_funds"}
TRANSIENT_ONCE = "tok_processingError"


class FakeGateway:
    """In-memory gateway for development and tests (state is per process, as a real gateway's is remote).

    >>> FakeGateway().authorize(amount=Decimal("1.00"), currency="EUR", card_token="tok_visa",
    ...                         idempotency_key="k").approved
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._authorizations: dict[str, Authorization] = {}
        self._attempts: dict[str, int] = {}

    def authorize(self, *, amount: Decimal, currency: str, card_token: str, idempotency_key: str) -> Authorization:
        with self._lock:
            if idempotency_key in self._authorizations:
                return self._authorizations[idempotency_key]
            attempt = self._attempts[idempotency_key] = self._attempts.get(idempotency_key, 0) + 1
            if card_token == TRANSIENT_ONCE and attempt == 1:
                raise GatewayTransientError("processing error, please retry")
            reference = "ch_" + uuid.uuid4().hex[:24]
            if card_token in APPROVING_TOKENS or card_token == TRANSIENT_ONCE:
                result = Authorization(approved=True, reference=reference)
            else:
                result = Authorization(
                    approved=False, reference=reference, decline_code=DECLINES.get(card_token, "invalid_card")
                )
            self._authorizations[idempotency_key] = result
            self._attempts.pop(idempotency_key, None)
            return result

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        return None

    def void(self, *, reference: str, idempotency_key: str) -> None:
        return None

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        return None
