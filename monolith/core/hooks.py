"""In-process reactions between the monolith's apps, listed in one table.

The legacy monolith reacts to a shipment leaving the warehouse synchronously, in the same transaction.
Listing the reactions here keeps the dependency one-way (shipments does not import orders) and shows in
one screen what happens on each fact; the event backbone replaces these calls with outbox events.

A fact can come from the monolith's own services (``shipments.services.shipment_dispatch``) or, once the shipment
service owns the shipment, from its event (``monolith.legacy_sync``): the same reactions run either way, and they
reach inventory and payments through the checkout's ports (``monolith.orders.ports``), on whichever side owns them.
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
