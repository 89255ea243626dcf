"""Sliding-window statistics and the rollback verdict, driven by a fake clock."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from strangler_proxy.model import Rollback
from strangler_proxy.window import LATENCY_RELATIVE_ERROR, Window, WindowStats, evaluate
from tests.unit.fake_clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(5000.0)


def exact_p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


def test_empty_window(clock: FakeClock) -> None:
    assert Window(60, clock).snapshot() == WindowStats(window_seconds=60)


def test_counts_service_requests_errors_and_shadow_verdicts(clock: FakeClock) -> None:
    window = Window(60, clock)
    for i in range(200):
        window.record_service(ok=i % 10 != 0, latency_ms=5)
    for i in range(50):
        window.record_shadow(matched=i % 25 != 0)
    stats = window.snapshot()
    assert (stats.service_requests, stats.service_errors, stats.error_rate) == (200, 20, 0.1)
    assert (stats.shadow_compared, stats.shadow_mismatches, stats.mismatch_rate) == (50, 2, 0.04)


def test_samples_expire_once_older_than_the_window(clock: FakeClock) -> None:
    window = Window(60, clock)
    clock.now = 5000.2
    window.record_service(ok=False, latency_ms=900)
    window.record_shadow(matched=False)
    clock.now = 5030.5
    window.record_service(ok=True, latency_ms=10)
    window.record_shadow(matched=True)
    clock.now = 5059.9  # both still younger than 60 s
    assert window.snapshot().service_requests == 2
    clock.now = 5060.0  # the first one is 59.8 s old, but its 1 s slot has left the window
    stats = window.snapshot()
    assert (stats.service_requests, stats.service_errors, stats.shadow_compared, stats.shadow_mismatches) == (
        1,
        0,
        1,
        0,
    )
    assert stats.p99_ms == pytest.approx(10, rel=LATENCY_RELATIVE_ERROR)
    clock.now = 5091.0
    assert window.snapshot() == WindowStats(window_seconds=60)


def test_a_sample_younger_than_the_window_minus_one_slot_always_counts(clock: FakeClock) -> None:
    window = Window(10, clock)
    for offset in [0.0, 0.25, 0.5, 0.999]:
        clock.now = 7000 + offset
        window.clear()
        window.record_service(ok=True, latency_ms=1)
        clock.advance(8.99)
        assert window.snapshot().service_requests == 1
        clock.advance(1.01)  # 10 s: never counted any more
        assert window.snapshot().service_requests == 0


def test_recording_after_a_long_silence_starts_afresh(clock: FakeClock) -> None:
    window = Window(60, clock)
    for _ in range(100):
        window.record_service(ok=False, latency_ms=2000)
    clock.advance(3600)
    window.record_service(ok=True, latency_ms=3)
    stats = window.snapshot()
    assert (stats.service_requests, stats.service_errors) == (1, 0)
    assert stats.p99_ms == pytest.approx(3, rel=LATENCY_RELATIVE_ERROR)


def test_memory_stays_bounded_to_the_slots_of_one_window(clock: FakeClock) -> None:
    rng = random.Random(1)
    window = Window(60, clock)
    for _ in range(600):  # 300 s, 40 requests a second
        for _ in range(20):
            window.record_service(ok=True, latency_ms=rng.uniform(1, 100))
        clock.advance(0.5)
    assert len(window._slots) <= 60
    assert window.snapshot().service_requests == 59 * 40  # the current slot has had no request yet


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: rng.lognormvariate(math.log(40), 1.0),
        lambda rng: rng.uniform(0.1, 59_000),
        lambda rng: rng.expovariate(1 / 3),
        lambda rng: rng.choice([2.0, 2.0, 2.0, 950.0]),
    ],
    ids=["lognormal", "uniform-full-range", "exponential-small", "bimodal"],
)
@pytest.mark.parametrize("count", [1, 7, 150, 20_000])
def test_p99_is_within_the_histogram_error_of_the_exact_value(
    clock: FakeClock, draw: Callable[[random.Random], float], count: int
) -> None:
    rng = random.Random(count)
    window = Window(60, clock)
    samples = [max(0.1, draw(rng)) for _ in range(count)]
    for latency in samples:
        window.record_service(ok=True, latency_ms=latency)
        clock.advance(0.002)
    assert window.snapshot().p99_ms == pytest.approx(exact_p99(samples), rel=LATENCY_RELATIVE_ERROR + 1e-9)


def test_p99_of_latencies_outside_the_histogram_range(clock: FakeClock) -> None:
    window = Window(60, clock)
    window.record_service(ok=True, latency_ms=0.0)
    assert window.snapshot().p99_ms == 0.1
    window.record_service(ok=False, latency_ms=120_000)
    assert window.snapshot().p99_ms == 60_000
    window.record_service(ok=False, latency_ms=math.inf)
    window.record_service(ok=False, latency_ms=math.nan)
    window.record_service(ok=False, latency_ms=-3)
    assert window.snapshot().service_requests == 5


def test_p99_counts_failed_requests_too(clock: FakeClock) -> None:
    window = Window(60, clock)
    for _ in range(99):
        window.record_service(ok=True, latency_ms=10)
    window.record_service(ok=False, latency_ms=5000)
    assert window.snapshot().p99_ms == pytest.approx(10, rel=LATENCY_RELATIVE_ERROR)
    window.record_service(ok=False, latency_ms=5000)
    assert window.snapshot().p99_ms == pytest.approx(5000, rel=LATENCY_RELATIVE_ERROR)


def test_clear_forgets_everything(clock: FakeClock) -> None:
    window = Window(60, clock)
    window.record_service(ok=False, latency_ms=10)
    window.record_shadow(matched=False)
    window.clear()
    assert window.snapshot() == WindowStats(window_seconds=60)
    window.record_service(ok=True, latency_ms=10)
    assert window.snapshot().service_requests == 1


def test_other_slot_widths(clock: FakeClock) -> None:
    window = Window(3600, clock, slot_seconds=60)
    window.record_service(ok=True, latency_ms=1)
    clock.advance(3540)
    window.record_service(ok=True, latency_ms=1)
    assert window.snapshot().service_requests == 2
    clock.advance(60)
    assert window.snapshot().service_requests == 1


@pytest.mark.parametrize(("seconds", "slot_seconds"), [(0, 1), (-1, 1), (60, 0)])
def test_rejects_lengths_that_are_not_positive(seconds: float, slot_seconds: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Window(seconds, slot_seconds=slot_seconds)


# --- evaluate --------------------------------------------------------------------------------------------------

ALL = Rollback(window_seconds=60, min_requests=50, error_rate=0.05, p99_ms=800, mismatch_rate=0.02)


def stats(
    requests: int = 150,
    errors: int = 0,
    p99: float | None = 100,
    compared: int = 150,
    mismatches: int = 0,
) -> WindowStats:
    return WindowStats(
        window_seconds=60,
        service_requests=requests,
        service_errors=errors,
        error_rate=errors / requests if requests else 0.0,
        p99_ms=p99,
        shadow_compared=compared,
        shadow_mismatches=mismatches,
        mismatch_rate=mismatches / compared if compared else 0.0,
    )


@pytest.mark.parametrize(
    ("window", "rollback", "reason"),
    [
        (stats(), ALL, None),
        (
            stats(errors=18),
            ALL,
            "service error rate 12.0% over the last 60 s (18 of 150 requests) exceeds 5.0%",
        ),
        (stats(p99=1250), ALL, "service p99 1,250 ms exceeds 800 ms (150 requests)"),
        (stats(mismatches=6), ALL, "shadow mismatch rate 4.0% (6 of 150 compared) exceeds 2.0%"),
        (
            stats(errors=18, p99=1250, mismatches=6),
            ALL,
            "service error rate 12.0% over the last 60 s (18 of 150 requests) exceeds 5.0%",
        ),
        (stats(p99=1250, mismatches=6), ALL, "service p99 1,250 ms exceeds 800 ms (150 requests)"),
        (stats(requests=2000, errors=100), ALL, None),
        (stats(p99=800), ALL, None),
        (stats(mismatches=3), ALL, None),
        (
            stats(requests=1999, errors=100),
            ALL,
            "service error rate 5.003% over the last 60 s (100 of 1,999 requests) exceeds 5.000%",
        ),
        (stats(p99=8.5), Rollback(p99_ms=5), "service p99 8.5 ms exceeds 5.0 ms (150 requests)"),
    ],
    ids=[
        "healthy",
        "error-rate",
        "p99",
        "mismatch-rate",
        "first-crossed-error-rate",
        "first-crossed-p99",
        "equal-error-rate-is-not-exceeding",
        "equal-p99-is-not-exceeding",
        "equal-mismatch-rate-is-not-exceeding",
        "just-above-printed-distinctly",
        "small-latencies",
    ],
)
def test_evaluate(window: WindowStats, rollback: Rollback, reason: str | None) -> None:
    assert evaluate(window, rollback) == reason


def test_no_verdict_on_too_few_service_requests() -> None:
    assert evaluate(stats(requests=49, errors=49, p99=9000), ALL) is None
    assert evaluate(stats(requests=50, errors=49), ALL) is not None
    assert evaluate(stats(requests=50, p99=9000), ALL) is not None


def test_no_mismatch_verdict_on_too_few_compared_shadows() -> None:
    assert evaluate(stats(compared=49, mismatches=49), ALL) is None
    assert evaluate(stats(compared=50, mismatches=2), ALL) == (
        "shadow mismatch rate 4.0% (2 of 50 compared) exceeds 2.0%"
    )


def test_mismatch_rate_does_not_need_service_requests() -> None:
    assert evaluate(stats(requests=0, p99=None, mismatches=6), ALL) is not None


def test_thresholds_set_to_none_are_not_checked() -> None:
    off = Rollback(min_requests=1, error_rate=None, p99_ms=None, mismatch_rate=None)
    assert evaluate(stats(errors=150, p99=60_000, mismatches=150), off) is None


def test_default_rollback_checks_the_error_rate_only() -> None:
    assert evaluate(stats(p99=60_000, mismatches=150), Rollback()) is None
    assert evaluate(stats(errors=10), Rollback()) is not None


def test_a_window_feeds_evaluate(clock: FakeClock) -> None:
    window = Window(60, clock)
    for i in range(100):
        window.record_service(ok=i >= 10, latency_ms=20)
    assert evaluate(window.snapshot(), ALL) == (
        "service error rate 10.0% over the last 60 s (10 of 100 requests) exceeds 5.0%"
    )
    clock.advance(60)
    assert evaluate(window.snapshot(), ALL) is None
