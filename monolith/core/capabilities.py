"""The capabilities the monolith can hand over, and the event aggregates each one publishes.

::

    capability_aggregate_types("inventory")   # ("stock", "reservation"); NotFound for an unknown name
    capability_position(capability="payments")  # events published so far for payment aggregates

The position is what a service replicating the capability must have applied before it can own the writes
(docs/extraction.md, "Write barrier").
"""

from __future__ import annotations

from events.positions import published_total
from monolith.core.errors import NotFound

CAPABILITY_AGGREGATES: dict[str, tuple[str, ...]] = {
    "inventory": ("stock", "reservation"),
    "payments": ("payment",),
    "shipments": ("shipment",),
}


def capability_aggregate_types(capability: str) -> tuple[str, ...]:
    try:
        return CAPABILITY_AGGREGATES[capability]
    except KeyError:
        known = ", ".join(CAPABILITY_AGGREGATES)
        raise NotFound(
            f"No capability {capability!r} (known: {known}).",
            code="capability_not_found",
            details={"capability": capability, "known": list(CAPABILITY_AGGREGATES)},
        ) from None


def capability_position(*, capability: str) -> int:
    return published_total(aggregate_types=capability_aggregate_types(capability))
