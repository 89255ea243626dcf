"""Undoing a failed checkout's effects on the services, which the monolith's rollback cannot reach.

::

    undo = Compensations(label=f"order {order.id}")
    reservation = undo.track(port, "release the reservation", lambda: port.reserve(...),
                             lambda r: port.release(reservation_id=r.id))
    ...
    undo.run()   # after the rollback: each remote effect undone, newest first

Only effects of remote adapters are tracked (in-process ones roll back with the transaction). When a call's answer
was lost (``RemoteOutcomeUnknown``) the effect may exist with an id nobody knows: the compensation replays the call
(the same ``Idempotency-Key`` returns the first outcome, or makes it now) and undoes what it returns. Each
compensation is retried while the service is unavailable and logged at ERROR if it still fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from monolith.core.errors import DomainError, UpstreamUnavailable
from monolith.orders.ports import RemoteOutcomeUnknown

logger = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 4


class _Port(Protocol):
    remote: bool


class Compensations:
    def __init__(self, *, label: str, attempts: int = ATTEMPTS, wait_max: float = 2.0) -> None:
        self.label = label
        self._steps: list[tuple[str, Callable[[], object]]] = []
        self._attempts = attempts
        self._wait_max = wait_max

    def __len__(self) -> int:
        return len(self._steps)

    def track(self, port: _Port, what: str, call: Callable[[], T], undo: Callable[[T], object]) -> T:
        """``call()``'s result; remembers how to undo it when ``port`` is remote (``what`` names the undo)."""
        try:
            result = call()
        except RemoteOutcomeUnknown:
            if port.remote:
                self._steps.append((what, lambda: _replayed(call, undo)))
            raise
        if port.remote:
            self._steps.append((what, lambda: undo(result)))
        return result

    def run(self) -> None:
        """Undo every tracked effect, newest first; never raises (a failure is logged and the next one runs)."""
        steps, self._steps = self._steps, []
        retrying = Retrying(
            retry=retry_if_exception_type(UpstreamUnavailable),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.1, max=self._wait_max),
            reraise=True,
        )
        for what, step in reversed(steps):
            try:
                retrying(step)
            except Exception:
                logger.exception("%s: could not %s (%d attempts); undo it by hand", self.label, what, self._attempts)
            else:
                logger.info("%s: %s (compensation)", self.label, what)


def _replayed(call: Callable[[], T], undo: Callable[[T], object]) -> None:
    try:
        result = call()
    except DomainError as exc:
        if exc.status >= 500:
            raise
        return  # refused now (declined, short): then it never took effect either, so there is nothing to undo
    undo(result)
