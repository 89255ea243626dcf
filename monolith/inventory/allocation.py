"""Deterministic stock allocation across warehouses: pure, no database.

Rule: if one warehouse can supply every line, the best-ranked such warehouse ships it all (one parcel);
otherwise each SKU is taken from warehouses in rank order (priority, then code) until it is covered.
The same stock and request always give the same allocation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class Allocation:
    # (warehouse code, sku, quantity), in warehouse rank order then sku
    picks: tuple[tuple[str, str, int], ...]
    shortages: tuple[Shortage, ...]

    @property
    def ok(self) -> bool:
        return not self.shortages


def allocate(
    requested: Mapping[str, int],
    available: Mapping[tuple[str, str], int],
    warehouse_rank: Sequence[str],
) -> Allocation:
    """Allocate ``requested`` (sku → qty) from ``available`` ((warehouse, sku) → qty)."""
    skus = sorted(requested)
    shortages = tuple(
        Shortage(sku, requested[sku], total)
        for sku in skus
        if (total := sum(max(available.get((w, sku), 0), 0) for w in warehouse_rank)) < requested[sku]
    )
    if shortages:
        return Allocation(picks=(), shortages=shortages)
    for warehouse in warehouse_rank:
        if all(available.get((warehouse, sku), 0) >= requested[sku] for sku in skus):
            return Allocation(picks=tuple((warehouse, sku, requested[sku]) for sku in skus), shortages=())
    picks: list[tuple[str, str, int]] = []
    for sku in skus:
        remaining = requested[sku]
        for warehouse in warehouse_rank:
            take = min(remaining, max(available.get((warehouse, sku), 0), 0))
            if take:
                picks.append((warehouse, sku, take))
                remaining -= take
            if not remaining:
                break
    rank = {w: i for i, w in enumerate(warehouse_rank)}
    picks.sort(key=lambda p: (rank[p[0]], p[1]))
    return Allocation(picks=tuple(picks), shortages=())
