"""What the inventory service does with the events it consumes (``EVENTS["HANDLERS"]``), listed in one table.

Consumer ``inventory`` (queue ``inventory``; the monolith's rules route these events to it):

- the monolith's ``stock.*`` (source ``monolith/inventory``): the replica. The state they carry is stored
  without publishing anything (the monolith already published it), and the event's aggregate sequence becomes
  this service's (``continue_numbering``): its own next event for that aggregate follows the monolith's;
- ``shipment.dispatched`` (from ``monolith/shipments`` or ``shipment-service``): the held stock leaves the
  shelf, but only when this service owns inventory writes (the proxy's state says the capability is in mode
  ``service``); otherwise the monolith consumes it itself and its ``stock.consumed`` reaches the replica.

Handlers run inside the inbox's transaction: their changes, the inbox entry and the position commit together.
A ``stock.*`` event the backfill's snapshot already covers still stores the stock levels it carries when they are
newer than the stored ones (``covered:`` handlers): the snapshot reads reservations and levels on different
pages, at different moments.
"""

from __future__ import annotations

from datetime import datetime

from events.envelope import Envelope
from extracted_services.common.numbering import continue_numbering
from extracted_services.common.replication import record_applied
from extracted_services.inventory import bootstrap
from extracted_services.inventory.adapters.documents import level_from, reservation_from
from extracted_services.inventory.service_layer import replica, services
from strangler_proxy.model import Side

CONSUMER = "inventory"
MONOLITH_SOURCE = "monolith/inventory"
SHIPMENT_SOURCES = ("monolith/shipments", "shipment-service")


def on_stock_adjusted(envelope: Envelope) -> None:
    if envelope.source != MONOLITH_SOURCE:
        return
    levels = [level_from(level) for level in envelope.data["levels"]]
    replica.replica_apply_levels(bootstrap.replica_unit_of_work(), levels)
    _applied(envelope)


def on_reservation_changed(envelope: Envelope) -> None:
    """``stock.reserved``, ``stock.released``, ``stock.consumed``: the reservation and the levels it moved."""
    if envelope.source != MONOLITH_SOURCE:
        return
    data, at = envelope.data, datetime.fromisoformat(envelope.time)
    replica.replica_apply_reservation(
        bootstrap.replica_unit_of_work(),
        reservation_from(data, created_at=at, updated_at=at),
        levels=[level_from(level) for level in data["levels"]],
        shipped_from=data.get("warehouse") if envelope.type == "stock.consumed" else None,
    )
    _applied(envelope)


def on_covered_levels(envelope: Envelope) -> None:
    """A ``stock.*`` event the backfill's snapshot covers: its reservation (or adjustment) is in the snapshot, but
    the stock levels it carries may be newer than the snapshot's, read on another page at another moment. They
    are stored when newer than the stored ones (by version), so this is safe whatever the snapshot holds."""
    if envelope.source != MONOLITH_SOURCE:
        return
    replica.replica_apply_levels(bootstrap.replica_unit_of_work(), [level_from(lv) for lv in envelope.data["levels"]])


def _applied(envelope: Envelope) -> None:
    continue_numbering(aggregate_type=envelope.aggregatetype, aggregate_id=envelope.subject, sequence=envelope.sequence)
    record_applied(CONSUMER, envelope)


def on_shipment_dispatched(envelope: Envelope) -> None:
    if (
        envelope.source not in SHIPMENT_SOURCES
        or bootstrap.ownership().owner_of_writes("inventory") is not Side.SERVICE
    ):
        return
    data = envelope.data
    services.reservation_consume(bootstrap.unit_of_work(), reference=data["order_id"], warehouse_code=data["warehouse"])


_HERE = "extracted_services.inventory.entrypoints.event_handlers"

HANDLERS = {
    CONSUMER: {
        "stock.adjusted": [f"{_HERE}.on_stock_adjusted"],
        "stock.reserved": [f"{_HERE}.on_reservation_changed"],
        "stock.released": [f"{_HERE}.on_reservation_changed"],
        "stock.consumed": [f"{_HERE}.on_reservation_changed"],
        "shipment.dispatched": [f"{_HERE}.on_shipment_dispatched"],
        **{
            f"covered:{etype}": [f"{_HERE}.on_covered_levels"]
            for etype in ("stock.adjusted", "stock.reserved", "stock.released", "stock.consumed")
        },
    },
}
