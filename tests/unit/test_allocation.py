from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monolith.inventory.allocation import Shortage, allocate

RANK = ["A", "B", "C"]


def test_one_warehouse_that_can_ship_everything_ships_it_all() -> None:
    result = allocate({"MUG": 2, "TEE": 1}, {("A", "MUG"): 5, ("B", "MUG"): 5, ("B", "TEE"): 1}, RANK)
    assert result.picks == (("B", "MUG", 2), ("B", "TEE", 1))


def test_best_ranked_complete_warehouse_wins() -> None:
    result = allocate({"MUG": 2}, {("C", "MUG"): 9, ("B", "MUG"): 9}, RANK)
    assert result.picks == (("B", "MUG", 2),)


def test_split_across_warehouses_in_rank_order_when_no_single_one_suffices() -> None:
    result = allocate({"MUG": 7, "TEE": 1}, {("A", "MUG"): 5, ("B", "MUG"): 5, ("C", "TEE"): 1}, RANK)
    assert result.ok
    assert result.picks == (("A", "MUG", 5), ("B", "MUG", 2), ("C", "TEE", 1))


def test_shortage_lists_each_short_sku_with_what_is_available() -> None:
    result = allocate({"MUG": 11, "TEE": 1, "CAP": 4}, {("A", "MUG"): 5, ("B", "MUG"): 5, ("A", "TEE"): 1}, RANK)
    assert not result.ok
    assert result.picks == ()
    assert result.shortages == (Shortage("CAP", 4, 0), Shortage("MUG", 11, 10))


def test_negative_availability_counts_as_none() -> None:
    assert not allocate({"MUG": 1}, {("A", "MUG"): -3}, RANK).ok


stock = st.dictionaries(
    st.tuples(st.sampled_from(RANK), st.sampled_from(["X", "Y", "Z"])), st.integers(0, 6), max_size=9
)
request = st.dictionaries(st.sampled_from(["X", "Y", "Z"]), st.integers(1, 8), min_size=1)


@given(request, stock)
def test_allocation_is_exact_within_stock_and_deterministic(req: dict[str, int], avail: dict) -> None:  # type: ignore[type-arg]
    result = allocate(req, avail, RANK)
    assert result == allocate(dict(reversed(list(req.items()))), avail, RANK)
    if result.ok:
        for sku, quantity in req.items():
            assert sum(q for _, s, q in result.picks if s == sku) == quantity
        for warehouse, sku, quantity in result.picks:
            assert 0 < quantity <= avail[(warehouse, sku)]
    else:
        assert any(sum(avail.get((w, s.sku), 0) for w in RANK) < s.requested for s in result.shortages)
