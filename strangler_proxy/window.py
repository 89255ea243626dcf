"""Sliding-window statistics of one group's service traffic and shadow comparisons, for automatic rollback.

Memory is bounded whatever the request rate: samples are counted into time slots (1 s by default) and latencies
into a fixed set of log-spaced buckets, never stored one by one. Running totals over the whole window are kept up
to date as samples arrive and slots expire, so ``record_*`` is O(1) and ``snapshot()`` costs a scan of the
latency buckets, not of the window.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from strangler_proxy.model import Rollback

__all__ = ["LATENCY_RELATIVE_ERROR", "Window", "WindowStats", "evaluate"]

_MIN_MS = 0.1  # latencies below land in one underflow bucket, reported as 0.1 ms
_MAX_MS = 60_000.0  # latencies at or above land in one overflow bucket, reported as 60 s
_GROWTH = 1.05  # each bucket's upper bound is 5 % above its lower bound
_SCALE = 1 / math.log(_GROWTH)
_PER_MIN = 1 / _MIN_MS
_log = math.log  # a global lookup instead of an attribute lookup on the hot path
_REGULAR = math.ceil(math.log(_MAX_MS / _MIN_MS) * _SCALE)
_OVERFLOW = _REGULAR + 1
_BUCKETS = _REGULAR + 2
# A bucket is reported by its geometric middle, so any value in it is off by at most this much (about 2.5 %).
LATENCY_RELATIVE_ERROR = math.sqrt(_GROWTH) - 1


def _bucket(latency_ms: float) -> int:
    if not latency_ms >= _MIN_MS:  # NaN too: a recorder on the request path must not raise
        return 0
    if latency_ms >= _MAX_MS:
        return _OVERFLOW
    return 1 + int(_log(latency_ms * _PER_MIN) * _SCALE)  # below _REGULAR + 1, as latency_ms < _MAX_MS


def _bucket_value(index: int) -> float:
    if index == 0:
        return _MIN_MS
    if index == _OVERFLOW:
        return _MAX_MS
    return _MIN_MS * math.pow(_GROWTH, index - 0.5)


@dataclass(frozen=True, kw_only=True)
class WindowStats:
    """Totals over the last ``window_seconds``; rates are 0.0 and ``p99_ms`` is None when there is nothing."""

    window_seconds: float
    service_requests: int = 0
    service_errors: int = 0
    error_rate: float = 0.0
    p99_ms: float | None = None  # over every service request, failed ones included; within LATENCY_RELATIVE_ERROR
    shadow_compared: int = 0
    shadow_mismatches: int = 0
    mismatch_rate: float = 0.0


@dataclass(eq=False, slots=True)
class _Slot:
    index: int
    requests: int = 0
    errors: int = 0
    compared: int = 0
    mismatches: int = 0
    latencies: dict[int, int] = field(default_factory=dict)  # bucket → count; sparse, latencies cluster


class Window:
    """Counts one group's service outcomes and shadow verdicts over the last ``seconds``.

    ::

        window = Window(group.rollback.window_seconds)
        window.record_service(ok=response.status < 500, latency_ms=elapsed_ms)
        window.record_shadow(matched=comparison.matched)   # only when the comparison was not skipped
        if reason := evaluate(window.snapshot(), group.rollback):
            await roll_back(group, reason)

    A sample counts while its slot is in the window: for slot width ``w`` and ``seconds = n * w``, a sample older
    than ``seconds`` is never counted and one younger than ``seconds - w`` always is. Single-threaded use (one
    asyncio event loop): no locks.
    """

    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic, *, slot_seconds: float = 1.0
    ) -> None:
        if not seconds > 0 or not slot_seconds > 0:
            raise ValueError(f"window and slot lengths must be positive, got {seconds} and {slot_seconds}")
        self.seconds = seconds
        self._clock = clock
        self._width = slot_seconds
        self._slots_in_window = max(1, math.ceil(seconds / slot_seconds - 1e-9))
        self._slots: deque[_Slot] = deque()
        self._current = _Slot(index=-(2**62))  # a placeholder older than any real slot; never counted
        self._requests = self._errors = self._compared = self._mismatches = 0
        self._latencies = [0] * _BUCKETS

    def record_service(self, ok: bool, latency_ms: float) -> None:
        slot = self._current
        if int(self._clock() // self._width) != slot.index:
            slot = self._slot()
        slot.requests += 1
        self._requests += 1
        if not ok:
            slot.errors += 1
            self._errors += 1
        bucket = _bucket(latency_ms)
        latencies = slot.latencies
        latencies[bucket] = latencies.get(bucket, 0) + 1
        self._latencies[bucket] += 1

    def record_shadow(self, matched: bool) -> None:
        """One compared shadow exchange; skipped comparisons are not recorded at all."""
        slot = self._current
        if int(self._clock() // self._width) != slot.index:
            slot = self._slot()
        slot.compared += 1
        self._compared += 1
        if not matched:
            slot.mismatches += 1
            self._mismatches += 1

    def snapshot(self) -> WindowStats:
        self._expire(self._now_index())
        return WindowStats(
            window_seconds=self.seconds,
            service_requests=self._requests,
            service_errors=self._errors,
            error_rate=self._errors / self._requests if self._requests else 0.0,
            p99_ms=self._percentile(0.99),
            shadow_compared=self._compared,
            shadow_mismatches=self._mismatches,
            mismatch_rate=self._mismatches / self._compared if self._compared else 0.0,
        )

    def clear(self) -> None:
        """Forget everything, e.g. after a rollback, so the next verdict rests on fresh traffic only."""
        self._slots.clear()
        self._current = _Slot(index=-(2**62))
        self._requests = self._errors = self._compared = self._mismatches = 0
        self._latencies = [0] * _BUCKETS

    def _now_index(self) -> int:
        return int(self._clock() // self._width)

    def _slot(self) -> _Slot:
        index = self._now_index()
        if index <= self._current.index:  # `<` only for a clock that went back: keep counting in the newest slot
            return self._current
        self._expire(index)
        self._current = _Slot(index=index)
        self._slots.append(self._current)
        return self._current

    def _expire(self, now_index: int) -> None:
        oldest_kept = now_index - self._slots_in_window + 1
        while self._slots and self._slots[0].index < oldest_kept:
            slot = self._slots.popleft()
            self._requests -= slot.requests
            self._errors -= slot.errors
            self._compared -= slot.compared
            self._mismatches -= slot.mismatches
            for bucket, count in slot.latencies.items():
                self._latencies[bucket] -= count

    def _percentile(self, quantile: float) -> float | None:
        """Nearest rank: the smallest sample with at least ``quantile`` of all samples at or below it."""
        total = self._requests  # every service request has a latency
        if total == 0:
            return None
        above = total - max(1, math.ceil(quantile * total))  # samples allowed strictly above the answer
        seen = 0
        for index in range(_BUCKETS - 1, -1, -1):
            seen += self._latencies[index]
            if seen > above:
                return _bucket_value(index)
        raise AssertionError("unreachable: the buckets hold `total` samples")


def evaluate(stats: WindowStats, rollback: Rollback) -> str | None:
    """The reason to roll back, or None: the first threshold crossed of error rate, p99 latency, mismatch rate.

    A threshold is crossed when strictly exceeded; one set to None is not checked. Error rate and p99 need at least
    ``min_requests`` service requests in the window, mismatch rate at least ``min_requests`` compared shadows.
    """
    enough_requests = stats.service_requests >= rollback.min_requests
    if enough_requests and rollback.error_rate is not None and stats.error_rate > rollback.error_rate:
        rate, limit = _percentages(stats.error_rate, rollback.error_rate)
        return (
            f"service error rate {rate} over the last {stats.window_seconds:g} s "
            f"({stats.service_errors:,} of {stats.service_requests:,} requests) exceeds {limit}"
        )
    if enough_requests and rollback.p99_ms is not None and stats.p99_ms is not None and stats.p99_ms > rollback.p99_ms:
        return (
            f"service p99 {_milliseconds(stats.p99_ms)} exceeds {_milliseconds(rollback.p99_ms)} "
            f"({stats.service_requests:,} requests)"
        )
    enough_compared = stats.shadow_compared >= rollback.min_requests
    if enough_compared and rollback.mismatch_rate is not None and stats.mismatch_rate > rollback.mismatch_rate:
        rate, limit = _percentages(stats.mismatch_rate, rollback.mismatch_rate)
        return (
            f"shadow mismatch rate {rate} ({stats.shadow_mismatches:,} of {stats.shadow_compared:,} compared) "
            f"exceeds {limit}"
        )
    return None


def _percentages(value: float, limit: float) -> tuple[str, str]:
    """Both as percentages, with enough decimals that a value just above its limit does not print equal to it."""
    for decimals in range(1, 5):
        shown, shown_limit = f"{value * 100:.{decimals}f}%", f"{limit * 100:.{decimals}f}%"
        if shown != shown_limit:
            break
    return shown, shown_limit


def _milliseconds(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"
