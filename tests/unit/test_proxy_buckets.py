from __future__ import annotations

from collections import Counter

import pytest

from strangler_proxy.buckets import BUCKETS, bucket_of, choose_side, in_canary
from strangler_proxy.model import Mode, Side
from strangler_proxy.ownership import side_for_bucket
from strangler_proxy.state import GroupState


# Regression guard, computed once with BLAKE2b-64 mod 10,000: if one changes, every live canary reshuffles its
# customers between the monolith and the service. Change them only together with a migration note.
@pytest.mark.parametrize(
    ("key", "bucket"),
    [
        ("customer-42", 1354),
        ("42", 1738),
        ("", 9876),
        ("ünïcödé", 4869),
        ("1b4e28ba-2fa1-11d2-883f-0016d3cca427", 375),
    ],
)
def test_buckets_are_stable(key: str, bucket: int) -> None:
    assert bucket_of(key) == bucket


def test_buckets_are_roughly_uniform_over_100k_keys() -> None:
    counts = Counter(bucket_of(f"customer-{number}") // 100 for number in range(100_000))
    expected = 100_000 / 100
    chi_square = sum((counts.get(cell, 0) - expected) ** 2 / expected for cell in range(100))
    # 99 degrees of freedom: mean 99, standard deviation 14; 200 is beyond 7 standard deviations.
    assert chi_square < 200
    assert set(counts) == set(range(100))


@pytest.mark.parametrize(("percent", "owned"), [(0, 0), (0.07, 7), (0.01, 1), (5, 500), (33.33, 3333), (100, 10000)])
def test_a_percent_owns_exactly_its_hundredths_of_buckets(percent: float, owned: int) -> None:
    assert sum(in_canary(bucket, percent) for bucket in range(BUCKETS)) == owned


def test_raising_the_percent_only_adds_buckets() -> None:
    percents = [step / 100 for step in range(0, 10_001, 7)] + [0.07, 0.29, 57.57, 99.99, 100.0]
    previous: set[int] = set()
    for percent in sorted(percents):
        current = {bucket for bucket in range(0, BUCKETS, 13) if in_canary(bucket, percent)}
        assert previous <= current, percent
        previous = current


@pytest.mark.parametrize(
    ("mode", "percent", "bucket", "default", "side"),
    [
        (Mode.MONOLITH, 100, 0, Side.SERVICE, Side.MONOLITH),
        (Mode.SHADOW, 100, 0, Side.SERVICE, Side.MONOLITH),
        (Mode.SERVICE, 0, None, Side.MONOLITH, Side.SERVICE),
        (Mode.CANARY, 0, None, Side.SERVICE, Side.MONOLITH),
        (Mode.CANARY, 0, 0, Side.SERVICE, Side.MONOLITH),
        (Mode.CANARY, 100, None, Side.MONOLITH, Side.SERVICE),
        (Mode.CANARY, 50, None, Side.SERVICE, Side.SERVICE),
        (Mode.CANARY, 50, None, Side.MONOLITH, Side.MONOLITH),
        (Mode.CANARY, 13.54, 1354, Side.MONOLITH, Side.MONOLITH),  # bucket 1354 is the 1355th
        (Mode.CANARY, 13.55, 1354, Side.MONOLITH, Side.SERVICE),
    ],
)
def test_choose_side(mode: Mode, percent: float, bucket: int | None, default: Side, side: Side) -> None:
    assert choose_side(mode, percent, bucket, default) is side


def test_canary_share_of_keys_follows_the_percent() -> None:
    chosen = [choose_side(Mode.CANARY, 10, bucket_of(f"cart-{n}"), Side.MONOLITH) for n in range(20_000)]
    assert 0.09 < chosen.count(Side.SERVICE) / len(chosen) < 0.11


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("percent", [0, 0.07, 13.54, 50, 99.99, 100])
def test_ownership_is_the_routing_rule_over_the_live_state(mode: Mode, percent: float) -> None:
    """The monolith and the services (side_for_bucket) decide exactly as the proxy routes (choose_side)."""
    state = GroupState(mode, percent, "2025-01-01T00:00:00Z")
    for bucket in [None, *range(0, BUCKETS, 7)]:
        for default in Side:
            assert side_for_bucket(state, bucket, default=default) is choose_side(mode, percent, bucket, default)
    assert side_for_bucket(None, 0) is Side.MONOLITH  # no store: the monolith owns everything
