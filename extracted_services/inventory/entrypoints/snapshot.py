"""Inventory as the backfill, reconcile and replication-status engines see it: the export's resources, how a
page of each is stored (the replica use cases) and what is compared.

Export records (docs/extraction.md, "Export API"): a warehouse is ``code``, ``name``, ``priority`` (events do not
carry priorities, so they come from here: the service ranks warehouses as the monolith does); a stock record is one
element of an event's ``levels``; a reservation the ``stock.reserved`` data without ``levels``, plus ``consumed``
per line and ``created_at``/``updated_at``. Stock records and reservations carry ``aggregate_type``,
``aggregate_id`` and ``sequence``: the replica's position of the aggregate is seeded with it and this service's
event numbering of the aggregate continues from it (``extracted_services.common.numbering``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from extracted_services.common.capability import Capability, Record, Resource
from extracted_services.common.numbering import continue_numbering
from extracted_services.common.positions import seed_position
from extracted_services.inventory import bootstrap
from extracted_services.inventory.adapters.documents import (
    level_from,
    reservation_from,
    timestamp,
    warehouse_from,
)
from extracted_services.inventory.adapters.outbox import RESERVATION, STOCK
from extracted_services.inventory.service_layer import replica

CONSUMER = "inventory"


def _apply_warehouses(records: Sequence[Record]) -> int:
    replica.replica_apply_warehouses(bootstrap.replica_unit_of_work(), [warehouse_from(r) for r in records])
    return len(records)


def _apply_stock(records: Sequence[Record]) -> int:
    for record in records:
        _seed(STOCK, record)
    applied = replica.replica_apply_levels(bootstrap.replica_unit_of_work(), [level_from(r) for r in records])
    for record in records:
        _continue_numbering(STOCK, record)
    return applied


def _apply_reservations(records: Sequence[Record]) -> int:
    applied = 0
    for record in records:
        reservation = reservation_from(
            record, created_at=timestamp(record, "created_at"), updated_at=timestamp(record, "updated_at")
        )
        before = _seed(RESERVATION, record)
        if int(record["sequence"]) > before or before == 0:  # else the replica already has this state or newer
            replica.replica_apply_reservation(bootstrap.replica_unit_of_work(), reservation)
            applied += 1
        _continue_numbering(RESERVATION, record)
    return applied


def _seed(aggregate_type: str, record: Record) -> int:
    """Seed the replica's position first, taking its lock before the rows' as the inbox does (no deadlock with a
    delivery running meanwhile); returns the position before."""
    return seed_position(
        consumer=CONSUMER, aggregate_type=aggregate_type, aggregate_id=str(record["aggregate_id"]),
        sequence=int(record["sequence"]),
    )  # fmt: skip


def _continue_numbering(aggregate_type: str, record: Record) -> None:
    """After the record's rows (locked in the order this service's own writes take them, sequence last)."""
    continue_numbering(
        aggregate_type=aggregate_type, aggregate_id=str(record["aggregate_id"]), sequence=int(record["sequence"])
    )


def _stock_shared(record: Record) -> dict[str, Any]:
    return {k: record.get(k) for k in ("warehouse", "sku", "on_hand", "reserved", "version")}


def _reservation_shared(record: Record) -> dict[str, Any]:
    lines = sorted(
        ({"warehouse": line.get("warehouse"), "sku": line.get("sku"), "quantity": line.get("quantity")}
         for line in record.get("lines") or ()),
        key=lambda line: (str(line["sku"]), str(line["warehouse"])),
    )  # fmt: skip
    return {"reservation_id": record.get("reservation_id"), "reference": record.get("reference"),
            "status": record.get("status"), "lines": lines}  # fmt: skip


CAPABILITY = Capability(
    name="inventory",
    consumer=CONSUMER,
    aggregate_types=("stock", "reservation"),
    resources=(
        Resource(
            name="warehouses", path="inventory/warehouses/", key=lambda r: str(r.get("code")),
            shared=lambda r: {k: r.get(k) for k in ("code", "name", "priority")}, apply=_apply_warehouses,
            local=lambda: bootstrap.snapshot_documents().warehouse_documents(), seeds=False,
        ),
        Resource(
            name="stock", path="inventory/stock/", key=lambda r: f"{r.get('warehouse')}:{r.get('sku')}",
            shared=_stock_shared, apply=_apply_stock, local=lambda: bootstrap.snapshot_documents().stock_documents(),
        ),
        Resource(
            name="reservations", path="inventory/reservations/", key=lambda r: str(r.get("reservation_id")),
            shared=_reservation_shared, apply=_apply_reservations,
            local=lambda: bootstrap.snapshot_documents().reservation_documents(),
        ),
    ),
)  # fmt: skip
