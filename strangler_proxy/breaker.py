"""A circuit breaker per upstream: stop sending to an upstream that keeps failing, then probe it with one request.

::

    closed ──(settings.failures consecutive failures)──▶ open
    open ──(settings.open_seconds elapsed)──▶ half_open: exactly one trial request at a time
    half_open ──(trial succeeds)──▶ closed
    half_open ──(trial fails)──▶ open, for another open_seconds

Made for one asyncio event loop: every method runs to completion without awaiting, so no lock is needed. It is not
safe to share one breaker between threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from strangler_proxy.model import Breaker

__all__ = ["BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Decides whether a request may go to one upstream, from the outcomes of the previous ones.

    ::

        breaker = CircuitBreaker(
            upstream.breaker,
            on_change=lambda old, new: log.info("breaker", upstream=upstream.name, old=old, new=new),
            trial_timeout=upstream.connect_timeout + upstream.read_timeout,
        )
        if not breaker.allow():
            return fallback()                   # open, or half-open with the trial already in flight
        try:
            response = await transport.send(request)
        except asyncio.CancelledError:
            breaker.release()                   # no verdict: give the trial slot back
            raise
        except UpstreamError:
            breaker.record_failure()
            raise
        if response.status >= 500:
            breaker.record_failure()
        else:
            breaker.record_success()

    Every ``allow()`` that returned True should be followed by exactly one of ``record_success()``,
    ``record_failure()`` or ``release()``. A half-open trial that never reports (a cancelled task that skipped
    ``release()``) is presumed lost after ``trial_timeout`` seconds and another trial is allowed, so the breaker
    cannot stay half-open forever; pass the upstream's connect + read timeout, so that a slow trial is never
    presumed lost while it can still report.

    Reports are not tied to the request that ``allow()`` admitted: while half-open, the first report decides, even
    from a request admitted before the breaker opened. While open, reports are ignored (they come from requests sent
    before it opened and must neither close it early nor extend the open period).

    ``on_change(old, new)`` is called after each transition, with the new state already in place; an exception it
    raises propagates to the caller of the method that caused the transition.
    """

    def __init__(
        self,
        settings: Breaker,
        clock: Callable[[], float] = time.monotonic,
        *,
        on_change: Callable[[str, str], None] | None = None,
        trial_timeout: float = 60.0,
    ) -> None:
        if settings.failures < 1:
            raise ValueError(f"breaker failures must be at least 1, got {settings.failures}")
        if settings.open_seconds < 0:
            raise ValueError(f"breaker open_seconds must not be negative, got {settings.open_seconds}")
        if not trial_timeout > 0:
            raise ValueError(f"breaker trial_timeout must be positive, got {trial_timeout}")
        self.settings = settings
        self.trial_timeout = trial_timeout
        self.on_change = on_change
        self._clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial_started: float | None = None  # set while the half-open trial is in flight

    @property
    def state(self) -> BreakerState:
        if self._state == "open" and self._clock() - self._opened_at >= self.settings.open_seconds:
            self._transition("half_open")
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether the next request may be sent; in half-open, True for the one trial request only."""
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        now = self._clock()
        if self._trial_started is not None and now - self._trial_started < self.trial_timeout:
            return False
        self._trial_started = now
        return True

    def record_success(self) -> None:
        if self._state == "closed":
            self._failures = 0
        elif self._state == "half_open":
            self._failures = 0
            self._trial_started = None
            self._transition("closed")

    def record_failure(self) -> None:
        if self._state == "closed":
            self._failures += 1
            if self._failures >= self.settings.failures:
                self._open()
        elif self._state == "half_open":
            self._failures += 1
            self._open()

    def release(self) -> None:
        """The admitted request was not sent or was cancelled: free the half-open trial slot without a verdict."""
        self._trial_started = None

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._trial_started = None
        self._transition("open")

    def _transition(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        if self.on_change is not None:
            self.on_change(old, new)

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self._state} failures={self._failures}/{self.settings.failures}>"
