"""In-process reactions between the monolith's apps, listed in one table.

The legacy monolith reacts to a shipment leaving the warehouse synchronously, in the same transaction.
Listing the reactions here keeps the dependency one-way (shipments does not import orders) and shows in
one screen what happens on each fact; the event backbone replaces these calls with outbox events.
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string

REACTIONS: dict[str, tuple[str, ...]] = {
    "shipment_dispatched": (
        "monolith.inventory.reactions.on_shipment_dispatched",
        "monolith.orders.reactions.on_shipment_dispatched",
    ),
}


def notify(fact: str, **payload: Any) -> None:
    for path in REACTIONS[fact]:
        import_string(path)(**payload)
