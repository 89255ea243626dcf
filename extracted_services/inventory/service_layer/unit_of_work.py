"""The unit of work: one atomic change of inventory and the events it publishes.

::

    with uow:
        level = uow.inventory.level("A", "MUG").adjusted(+5)
        uow.inventory.save_levels([level])
        uow.emit(StockAdjusted(...))
        uow.commit()          # the events are written with the change; leaving without commit rolls back

An adapter supplies the transaction (``adapters/orm_repository.DjangoUnitOfWork``); the events go to the
outbox inside it, so a change and its events commit together or not at all.
"""

from __future__ import annotations

import abc
from types import TracebackType

from extracted_services.inventory.domain.events import Event
from extracted_services.inventory.service_layer.repository import InventoryRepository


class AbstractUnitOfWork(abc.ABC):
    inventory: InventoryRepository

    def __init__(self) -> None:
        self._events: list[Event] = []

    def __enter__(self) -> AbstractUnitOfWork:
        self._events = []
        self._begin()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._end(exc_type, exc, tb)

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def commit(self) -> None:
        events, self._events = tuple(self._events), []
        self._commit(events)

    @abc.abstractmethod
    def _begin(self) -> None: ...

    @abc.abstractmethod
    def _commit(self, events: tuple[Event, ...]) -> None:
        """Publish ``events`` in the open transaction and mark it to commit when the block ends."""

    @abc.abstractmethod
    def _end(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Commit if ``commit()`` was called and nothing was raised; roll back otherwise."""
