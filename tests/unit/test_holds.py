"""The monolith's own writes are held during a cut-over, not failed (monolith/core/holds.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from monolith.core.errors import CapabilityMoved, UpstreamUnavailable
from monolith.core.holds import held_write


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class State:
    held: bool


class Proxy:
    """The proxy's state as the monolith reads it: ``inventory`` held until ``release_at``."""

    def __init__(self, clock: Clock, release_at: float) -> None:
        self.clock, self.release_at = clock, release_at

    def state(self, group: str) -> State | None:
        if group == "shipment":
            return None  # a group the store does not know
        return State(held=group == "inventory" and self.clock.now < self.release_at)


class Write:
    """A write whose transaction meets the fence until ``fenced_until``; records when each run started."""

    def __init__(self, clock: Clock, fenced_until: float) -> None:
        self.clock, self.fenced_until, self.runs = clock, fenced_until, list[float]()

    def __call__(self) -> str:
        self.runs.append(self.clock.now)
        if self.clock.now < self.fenced_until:
            raise CapabilityMoved("inventory moved")
        return "written"


def test_a_hold_alone_does_not_stop_a_write_until_the_fence() -> None:
    clock = Clock()
    write = Write(clock, fenced_until=0)
    assert held_write(write, view=Proxy(clock, release_at=5.0), clock=clock, sleep=clock.sleep) == "written"
    assert write.runs == [0], "it ran at once: waiting here could starve the fence request of web workers"


def test_a_fenced_write_waits_for_the_hold_to_end_then_runs_again() -> None:
    clock = Clock()
    write = Write(clock, fenced_until=0.6)
    assert held_write(write, view=Proxy(clock, release_at=0.6), clock=clock, sleep=clock.sleep) == "written"
    assert write.runs[0] == 0 and len(write.runs) == 2 and write.runs[1] >= 0.6


def test_a_write_that_meets_the_fence_runs_again_after_the_cut_over() -> None:
    clock = Clock()
    write = Write(clock, fenced_until=0.5)
    assert held_write(write, view=Proxy(clock, release_at=0.0), clock=clock, sleep=clock.sleep) == "written"
    assert write.runs[0] == 0 and write.runs[-1] >= 0.5 and len(write.runs) >= 2


def test_no_cut_over_means_no_wait() -> None:
    clock = Clock()
    write = Write(clock, fenced_until=0)
    held_write(write, view=Proxy(clock, release_at=0), clock=clock, sleep=clock.sleep)
    assert write.runs == [0]


@pytest.mark.parametrize(("release_at", "fenced_until"), [(99.0, 0.0), (0.0, 99.0), (99.0, 99.0)])
def test_a_cut_over_that_never_ends_is_503_within_the_wait(release_at: float, fenced_until: float) -> None:
    clock = Clock()
    write = Write(clock, fenced_until=fenced_until)
    if fenced_until == 0.0:  # held but never fenced: the write runs
        assert held_write(write, view=Proxy(clock, release_at=release_at), timeout=2.0, clock=clock,
                          sleep=clock.sleep) == "written"  # fmt: skip
        return
    with pytest.raises(UpstreamUnavailable) as raised:
        held_write(write, view=Proxy(clock, release_at=release_at), timeout=2.0, clock=clock, sleep=clock.sleep)
    assert raised.value.code == "capability_moving" and raised.value.status == 503
    assert 2.0 <= clock.now < 2.5


def test_an_endpoint_whose_own_capability_moved_answers_421_at_once() -> None:
    clock = Clock()

    def dispatch() -> str:
        raise CapabilityMoved("shipments moved", details={"capability": "shipments"})

    with pytest.raises(CapabilityMoved):
        held_write(dispatch, own="shipments", view=Proxy(clock, release_at=9.0), clock=clock, sleep=clock.sleep)
    assert clock.now == 0
