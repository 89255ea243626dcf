"""The payment-gateway port and the built-in fake gateway driven by test card tokens.

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

During a dry-run request (``monolith.api.dry_run``) nothing may happen that the rollback cannot undo, so
``get_gateway()`` returns ``DryRunGateway``: the same token table, answered at once (no transient failure), with
a ``dryrun_`` reference, and nothing remembered or charged. A real gateway adapter would do the same: a dry run
must never reach the card network.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from monolith.api.dry_run import is_dry_run

APPROVING_TOKENS = frozenset({"tok_visa", "tok_mastercard", "tok_amex"})
DECLINES = {"tok_chargeDeclined": "card_declined", "tok_insufficientFunds": "insufficient_funds"}
TRANSIENT_ONCE = "tok_processingError"


class GatewayTransientError(Exception):
    """The gateway could not process the call this time; the same call may succeed on retry."""


@dataclass(frozen=True)
class Authorization:
    approved: bool
    reference: str
    decline_code: str = ""


class PaymentGateway(Protocol):
    def authorize(self, *, amount: Decimal, currency: str, card_token: str, idempotency_key: str) -> Authorization: ...

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None: ...

    def void(self, *, reference: str, idempotency_key: str) -> None: ...

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None: ...


def _decide(card_token: str, reference: str) -> Authorization:
    if card_token in APPROVING_TOKENS or card_token == TRANSIENT_ONCE:
        return Authorization(approved=True, reference=reference)
    return Authorization(approved=False, reference=reference, decline_code=DECLINES.get(card_token, "invalid_card"))


class FakeGateway:
    """In-memory gateway for development and tests (state is per process, as a real gateway's is remote)."""

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
            result = _decide(card_token, "ch_" + uuid.uuid4().hex[:24])
            self._authorizations[idempotency_key] = result
            self._attempts.pop(idempotency_key, None)
            return result

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        return None

    def void(self, *, reference: str, idempotency_key: str) -> None:
        return None

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        return None


class DryRunGateway:
    """Answers as the gateway would, touching nothing: for dry-run requests, which are rolled back."""

    def authorize(self, *, amount: Decimal, currency: str, card_token: str, idempotency_key: str) -> Authorization:
        return _decide(card_token, "dryrun_" + uuid.uuid4().hex[:24])

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        return None

    def void(self, *, reference: str, idempotency_key: str) -> None:
        return None

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        return None


_fake = FakeGateway()
_dry_run = DryRunGateway()


def get_gateway() -> PaymentGateway:
    return _dry_run if is_dry_run() else _fake
