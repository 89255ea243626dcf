"""The gateway during dry-run requests (``X-Strangler-Shadow: 1``, ``monolith.api.dry_run``): the rollback
cannot undo a charge, so a dry run answers from the token table at once and charges nobody (as the monolith's
``DryRunGateway``).

::

    gateway = DryRunSwitch(real=FakeGateway(), is_dry_run=is_dry_run)   # what bootstrap wires
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

from extracted_services.payment.adapters.fake_gateway import APPROVING_TOKENS, DECLINES, TRANSIENT_ONCE
from extracted_services.payment.domain import Authorization, PaymentGateway

__all__ = ["DryRunGateway", "DryRunSwitch"]


class DryRunGateway:
    """Answers as the fake gateway would, touching nothing and remembering nothing."""

    def authorize(self, *, amount: Decimal, currency: str, card_token: str, idempotency_key: str) -> Authorization:
        reference = "dryrun_" + uuid.uuid4().hex[:24]
        if card_token in APPROVING_TOKENS or card_token == TRANSIENT_ONCE:
            return Authorization(approved=True, reference=reference)
        return Authorization(approved=False, reference=reference, decline_code=DECLINES.get(card_token, "invalid_card"))

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        return None

    def void(self, *, reference: str, idempotency_key: str) -> None:
        return None

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        return None


class DryRunSwitch:
    """The real gateway, except while ``is_dry_run()``: then the dry-run one."""

    def __init__(
        self, *, real: PaymentGateway, is_dry_run: Callable[[], bool], dry: PaymentGateway | None = None
    ) -> None:
        self._real = real
        self._dry = dry or DryRunGateway()
        self._is_dry_run = is_dry_run

    def _current(self) -> PaymentGateway:
        return self._dry if self._is_dry_run() else self._real

    def authorize(self, *, amount: Decimal, currency: str, card_token: str, idempotency_key: str) -> Authorization:
        return self._current().authorize(
            amount=amount, currency=currency, card_token=card_token, idempotency_key=idempotency_key
        )

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        self._current().capture(reference=reference, amount=amount, idempotency_key=idempotency_key)

    def void(self, *, reference: str, idempotency_key: str) -> None:
        self._current().void(reference=reference, idempotency_key=idempotency_key)

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        self._current().refund(reference=reference, amount=amount, idempotency_key=idempotency_key)
