"""The circuit breaker's states and transitions, driven by a fake clock."""

from __future__ import annotations

import pytest

from strangler_proxy.breaker import CircuitBreaker
from strangler_proxy.model import Breaker
from tests.unit.fake_clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def changes() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def breaker(clock: FakeClock, changes: list[tuple[str, str]]) -> CircuitBreaker:
    return CircuitBreaker(
        Breaker(failures=3, open_seconds=10), clock, on_change=lambda old, new: changes.append((old, new))
    )


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


def state(breaker: CircuitBreaker) -> str:
    """The state, read in a way that keeps mypy from narrowing it across calls that change it."""
    return breaker.state


def open_breaker(breaker: CircuitBreaker) -> None:
    fail(breaker, 3)
    assert state(breaker) == "open"


def test_starts_closed_and_allows_everything(breaker: CircuitBreaker) -> None:
    assert state(breaker) == "closed"
    assert all(breaker.allow() for _ in range(100))


def test_opens_after_the_configured_consecutive_failures(
    breaker: CircuitBreaker, changes: list[tuple[str, str]]
) -> None:
    fail(breaker, 2)
    assert state(breaker) == "closed" and breaker.consecutive_failures == 2
    fail(breaker, 1)
    assert state(breaker) == "open"
    assert not breaker.allow()
    assert changes == [("closed", "open")]


def test_a_success_resets_the_consecutive_count(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.record_success()
    fail(breaker, 2)
    assert state(breaker) == "closed"
    fail(breaker, 1)
    assert state(breaker) == "open"


def test_stays_open_until_open_seconds_have_passed(breaker: CircuitBreaker, clock: FakeClock) -> None:
    open_breaker(breaker)
    clock.advance(9.999)
    assert not breaker.allow()
    assert state(breaker) == "open"
    clock.advance(0.001)
    assert state(breaker) == "half_open"


def test_half_open_allows_exactly_one_trial(
    breaker: CircuitBreaker, clock: FakeClock, changes: list[tuple[str, str]]
) -> None:
    open_breaker(breaker)
    clock.advance(10)
    assert breaker.allow()
    assert [breaker.allow() for _ in range(5)] == [False] * 5
    assert state(breaker) == "half_open"
    assert changes == [("closed", "open"), ("open", "half_open")]


def test_a_successful_trial_closes(breaker: CircuitBreaker, clock: FakeClock, changes: list[tuple[str, str]]) -> None:
    open_breaker(breaker)
    clock.advance(10)
    assert breaker.allow()
    breaker.record_success()
    assert state(breaker) == "closed" and breaker.consecutive_failures == 0
    assert all(breaker.allow() for _ in range(5))
    assert changes[-1] == ("half_open", "closed")
    fail(breaker, 2)
    assert state(breaker) == "closed"  # the count started again from zero


def test_a_failed_trial_reopens_for_another_open_period(
    breaker: CircuitBreaker, clock: FakeClock, changes: list[tuple[str, str]]
) -> None:
    open_breaker(breaker)
    clock.advance(15)
    assert breaker.allow()
    clock.advance(2)
    breaker.record_failure()
    assert state(breaker) == "open"
    assert changes[-1] == ("half_open", "open")
    clock.advance(9.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.allow()
    assert not breaker.allow()


def test_reports_while_open_are_ignored(breaker: CircuitBreaker, clock: FakeClock) -> None:
    open_breaker(breaker)
    clock.advance(5)
    breaker.record_success()  # a request sent before the breaker opened
    assert state(breaker) == "open"
    breaker.record_failure()
    clock.advance(5)
    assert state(breaker) == "half_open"  # the late failure did not extend the open period


def test_release_frees_the_trial_slot(breaker: CircuitBreaker, clock: FakeClock) -> None:
    open_breaker(breaker)
    clock.advance(10)
    assert breaker.allow()
    breaker.release()
    assert state(breaker) == "half_open"
    assert breaker.allow()
    assert not breaker.allow()


def test_a_trial_that_never_reports_is_presumed_lost_after_the_trial_timeout(clock: FakeClock) -> None:
    breaker = CircuitBreaker(Breaker(failures=1, open_seconds=10), clock, trial_timeout=11)
    breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    clock.advance(10.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.allow()
    assert not breaker.allow()
    breaker.record_success()
    assert state(breaker) == "closed"


def test_release_while_closed_changes_nothing(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.release()
    assert state(breaker) == "closed" and breaker.consecutive_failures == 2


def test_a_single_failure_opens_when_configured_so(clock: FakeClock) -> None:
    breaker = CircuitBreaker(Breaker(failures=1, open_seconds=0), clock)
    breaker.record_failure()
    assert state(breaker) == "half_open"  # open_seconds=0: the very next request is a trial
    assert breaker.allow()
    assert not breaker.allow()


def test_on_change_can_be_set_after_construction(breaker: CircuitBreaker, clock: FakeClock) -> None:
    seen: list[tuple[str, str]] = []
    breaker.on_change = lambda old, new: seen.append((old, new))
    open_breaker(breaker)
    assert seen == [("closed", "open")]


def test_on_change_sees_the_new_state_already_in_place(clock: FakeClock) -> None:
    observed: list[str] = []
    breaker = CircuitBreaker(Breaker(failures=1, open_seconds=1), clock)
    breaker.on_change = lambda old, new: observed.append(state(breaker))
    breaker.record_failure()
    assert observed == ["open"]


def test_uses_the_monotonic_clock_by_default() -> None:
    breaker = CircuitBreaker(Breaker(failures=1, open_seconds=3600))
    breaker.record_failure()
    assert not breaker.allow()


@pytest.mark.parametrize(
    ("settings", "trial_timeout"), [(Breaker(failures=0), 60), (Breaker(open_seconds=-1), 60), (Breaker(), 0)]
)
def test_rejects_settings_that_cannot_work(settings: Breaker, trial_timeout: float) -> None:
    with pytest.raises(ValueError, match="breaker"):
        CircuitBreaker(settings, trial_timeout=trial_timeout)
