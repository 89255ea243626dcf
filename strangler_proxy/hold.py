"""Parking a group's unsafe requests while a cut-over moves its writes (docs/extraction.md, "Write barrier").

The barrier marks the group ``held`` in the state store; every instance sees it within a poll (a quarter of a
second) and from then on parks the group's unsafe requests, body already read, until the hold clears. A parked
request then goes where the new state sends it: to the service once the cut-over is done, back to the monolith when
it was aborted. Safe methods are never held. A request parked longer than the group's ``cutover.hold_timeout`` gets
503 ``writes_held``; one whose client went away while parked is dropped, never sent.

::

    hold = Hold("inventory")
    hold.update(True)                                        # from the polled state
    outcome = await hold.park(10.0, body.disconnected())     # Parked.RELEASED once update(False)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from strangler_proxy import metrics

__all__ = ["Hold", "Parked"]

logger = logging.getLogger("strangler_proxy")


class Parked(StrEnum):
    RELEASED = "released"  # the hold cleared: route by the new state
    TIMED_OUT = "timed_out"  # answer 503 writes_held
    GONE = "gone"  # the client disconnected while parked: send nothing


class Hold:
    """One group's hold as this instance sees it."""

    def __init__(self, group: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.group = group
        self._clock = clock
        self._released = asyncio.Event()
        self._released.set()
        self._since: float | None = None

    @property
    def held(self) -> bool:
        return self._since is not None

    def update(self, held: bool) -> None:
        """Follow the store: on a new hold start parking, on its end release every parked request."""
        if held and self._since is None:
            self._since = self._clock()
            self._released.clear()
            metrics.HELD.labels(self.group).set(1)
            logger.info("group %s held: its unsafe requests wait", self.group)
        elif not held and self._since is not None:
            seconds = self._clock() - self._since
            metrics.HOLD_SECONDS.labels(self.group).observe(seconds)
            logger.info("group %s released after %.0f ms", self.group, seconds * 1000)
            self._since = None
            self._released.set()
            metrics.HELD.labels(self.group).set(0)

    async def park(self, timeout: float, disconnected: Awaitable[None]) -> Parked:
        """Wait for the release, at most ``timeout`` seconds; ``disconnected`` completes when the client leaves."""
        released = asyncio.ensure_future(self._released.wait())
        gone = asyncio.ensure_future(disconnected)
        try:
            done, _ = await asyncio.wait({released, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (released, gone):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        outcome = Parked.GONE if gone in done else Parked.RELEASED if released in done else Parked.TIMED_OUT
        metrics.HELD_REQUESTS.labels(self.group, str(outcome)).inc()
        return outcome
