"""Which warehouse gives how much of each SKU: pure and deterministic.

The rule (the same picks as the monolith's inventory, so a reservation splits identically on both sides):

1. any SKU whose total availability is short makes the whole request short (no picks);
2. else the best-ranked warehouse that can supply every line alone ships everything (one parcel);
3. else each SKU is taken from warehouses in rank order until it is covered.

>>> plan = allocate({"MUG": 3}, {("A", "MUG"): 1, ("B", "MUG"): 5}, ["A", "B"])
>>> plan.picks
(Pick(warehouse='B', sku='MUG', quantity=3),)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pick:
    warehouse: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class AllocationPlan:
    picks: tuple[Pick, ...]  # in warehouse rank order, then SKU
    shortages: tuple[Shortage, ...]  # in SKU order

    @property
    def ok(self) -> bool:
        return not self.shortages


def allocate(
    requested: Mapping[str, int],
    available: Mapping[tuple[str, str], int],
    ranked_warehouses: Sequence[str],
) -> AllocationPlan:
    """Plan ``requested`` (sku → quantity) from ``available`` ((warehouse, sku) → quantity) by warehouse rank."""
    skus = sorted(requested)

    def free(warehouse: str, sku: str) -> int:
        return max(available.get((warehouse, sku), 0), 0)

    shortages = []
    for sku in skus:
        total = sum(free(warehouse, sku) for warehouse in ranked_warehouses)
        if total < requested[sku]:
            shortages.append(Shortage(sku, requested[sku], total))
    if shortages:
        return AllocationPlan(picks=(), shortages=tuple(shortages))
    whole = next((w for w in ranked_warehouses if all(free(w, sku) >= requested[sku] for sku in skus)), None)
    if whole is not None:
        return AllocationPlan(picks=tuple(Pick(whole, sku, requested[sku]) for sku in skus), shortages=())
    return AllocationPlan(picks=_split(requested, skus, free, ranked_warehouses), shortages=())


def _split(
    requested: Mapping[str, int],
    skus: Sequence[str],
    free: Callable[[str, str], int],
    ranked_warehouses: Sequence[str],
) -> tuple[Pick, ...]:
    rank = {warehouse: position for position, warehouse in enumerate(ranked_warehouses)}
    picks: list[Pick] = []
    for sku in skus:
        missing = requested[sku]
        for warehouse in ranked_warehouses:
            if not missing:
                break
            take = min(missing, free(warehouse, sku))
            if take:
                picks.append(Pick(warehouse, sku, take))
                missing -= take
    return tuple(sorted(picks, key=lambda pick: (rank[pick.warehouse], pick.sku)))
