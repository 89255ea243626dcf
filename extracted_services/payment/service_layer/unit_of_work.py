"""The ports the use cases run over: a repository of payments and a unit of work around it.

::

    with uow:                                   # one transaction
        payment = uow.payments.get_for_update(payment_id)
        payment.void(now=now)
        uow.commit()                            # saves the payment and its events' outbox rows together

Leaving the block without ``commit()`` (or with an exception) rolls everything back.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Protocol

from extracted_services.payment.domain import Payment

__all__ = ["PaymentRepository", "UnitOfWork"]


class PaymentRepository(Protocol):
    def add(self, payment: Payment) -> None: ...

    def get(self, payment_id: uuid.UUID, *, customer_id: int | None = None) -> Payment | None:
        """The payment; with ``customer_id``, only if it is that customer's."""
        ...

    def get_for_update(self, payment_id: uuid.UUID) -> Payment | None:
        """The payment, locked until the unit of work ends."""
        ...


class UnitOfWork(Protocol):
    @property
    def payments(self) -> PaymentRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None:
        """Save every payment touched (added or loaded for update) and publish the events they recorded."""
        ...
