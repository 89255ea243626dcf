"""Inventory's events on DynamoDB: written as outbox items in the change's own transaction, then drained into the
service's events outbox (``events.outbox``), which the relay ships as it ships the ORM adapter's.

::

    drain = OutboxDrain(db, publish=publish_event)     # bootstrap.outbox_drain()
    drain.drain()                                       # DrainReport(moved=3, duplicates=0, waiting=0, failed=0)

An outbox item is keyed by its aggregate (``stock/A:MUG``, ``reservation/<id>``) and its ``number`` there, which
the unit of work takes from the aggregate's ``events`` counter in the same transaction: an aggregate's items are
numbered 1, 2, 3... without gaps, and item ``n + 1`` can only exist once ``n`` has committed.

Moving one item is one database transaction: lock the drain's position for the aggregate (a consumer position
of consumer ``inventory-dynamodb-outbox``, ``events.positions``), publish the event if its number is the next
one, advance the position; only after that commits is the item deleted. So an item is published once however
many drains run (a second one waits on the position lock, then sees the number already passed and just deletes
the item), in each aggregate's order, and a drain killed between commit and delete deletes the item next time.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from django.db import transaction

from events.models import ConsumerPosition
from events.positions import lock_position
from extracted_services.inventory.adapters.dynamodb_tables import DynamoDb, Item, to_attributes
from extracted_services.inventory.domain.events import (
    Event,
    StockAdjusted,
    StockConsumed,
    StockReleased,
    StockReserved,
)
from extracted_services.inventory.domain.model import (
    Adjustment,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
)

CONSUMER = "inventory-dynamodb-outbox"
TYPES: dict[type, str] = {
    StockAdjusted: "stock.adjusted",
    StockReserved: "stock.reserved",
    StockReleased: "stock.released",
    StockConsumed: "stock.consumed",
}
_RESERVED_OR_RELEASED: dict[str, type[StockReserved | StockReleased]] = {
    "stock.reserved": StockReserved,
    "stock.released": StockReleased,
}

logger = logging.getLogger("extracted_services.inventory.dynamodb_outbox")


def aggregate_of(event: Event) -> tuple[str, str]:
    """(aggregate type, aggregate id) of an event, as ``adapters/outbox.py`` publishes it."""
    if isinstance(event, StockAdjusted):
        return ("stock", f"{event.level.warehouse}:{event.level.sku}")
    return ("reservation", str(event.reservation.id))


def outbox_item(event: Event, number: int, committed_at: datetime) -> Item:
    aggregate_type, aggregate_id = aggregate_of(event)
    return {
        "aggregate": f"{aggregate_type}/{aggregate_id}", "number": number, "event_id": str(uuid.uuid4()),
        "type": TYPES[type(event)], "body": json.dumps(_body(event), separators=(",", ":")),
        "committed_at": committed_at.isoformat(),
    }  # fmt: skip


def event_of(item: Item) -> Event:
    body = json.loads(item["body"])
    if item["type"] == "stock.adjusted":
        adjustment = dict(body["adjustment"], created_at=_time(body["adjustment"]["created_at"]))
        return StockAdjusted(Adjustment(**adjustment), StockLevel(**body["level"]))
    reservation = body["reservation"]
    lines = tuple(ReservationLine(**line) for line in reservation["lines"])
    restored = Reservation(
        id=uuid.UUID(reservation["id"]), reference=reservation["reference"],
        status=ReservationStatus(reservation["status"]), lines=lines,
        created_at=_time(reservation["created_at"]), updated_at=_time(reservation["updated_at"]),
    )  # fmt: skip
    levels = tuple(StockLevel(**level) for level in body["levels"])
    if item["type"] == "stock.consumed":
        return StockConsumed(restored, levels, body["warehouse"])
    return _RESERVED_OR_RELEASED[item["type"]](restored, levels)


def _body(event: Event) -> dict[str, Any]:
    if isinstance(event, StockAdjusted):
        adjustment = {f.name: getattr(event.adjustment, f.name) for f in fields(Adjustment)}
        adjustment["created_at"] = _iso(event.adjustment.created_at)
        return {"adjustment": adjustment, "level": _level(event.level)}
    r = event.reservation
    body: dict[str, Any] = {
        "reservation": {
            "id": str(r.id), "reference": r.reference, "status": str(r.status),
            "lines": [{f.name: getattr(line, f.name) for f in fields(ReservationLine)} for line in r.lines],
            "created_at": _iso(r.created_at), "updated_at": _iso(r.updated_at),
        },
        "levels": [_level(level) for level in event.levels],
    }  # fmt: skip
    if isinstance(event, StockConsumed):
        body["warehouse"] = event.warehouse
    return body


def _level(level: StockLevel) -> dict[str, Any]:
    return {f.name: getattr(level, f.name) for f in fields(StockLevel)}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# -- the drain -----------------------------------------------------------------------------------------------------


@dataclass
class DrainReport:
    moved: int = 0  # published into the events outbox and deleted
    duplicates: int = 0  # published before (by another drain, or before a crash): only deleted
    waiting: int = 0  # left for later: an earlier item of its aggregate is not visible yet, or failed
    failed: int = 0  # publishing raised (logged); the item stays

    def add(self, other: DrainReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class OutboxDrain:
    """Moves DynamoDB outbox items into the events outbox, once each, in each aggregate's order."""

    def __init__(self, db: DynamoDb, *, publish: Callable[[Event], None], consumer: str = CONSUMER) -> None:
        self._db = db
        self._publish = publish
        self._consumer = consumer

    def pending(self) -> int:
        return len(self._db.scan("outbox"))

    def drain(self, *, max_passes: int = 10) -> DrainReport:
        """Passes over the outbox until one moves nothing (or ``max_passes``): empties it when nothing fails."""
        total = DrainReport()
        for _ in range(max_passes):
            report = self.drain_pass()
            total.add(report)
            if not (report.moved or report.duplicates) or not report.waiting:
                break
        return total

    def drain_pass(self) -> DrainReport:
        """One scan of the outbox: every item whose predecessors are gone is moved (or, if moved before, deleted)."""
        report = DrainReport()
        items = sorted(self._db.scan("outbox"), key=lambda i: (i["committed_at"], i["aggregate"], i["number"]))
        blocked: set[str] = set()
        for item in items:
            if item["aggregate"] in blocked:
                report.waiting += 1
                continue
            try:
                outcome = self._move(item)
            except Exception:
                logger.exception("outbox item %s #%s not published; it stays", item["aggregate"], item["number"])
                outcome = "failed"
            if outcome in ("moved", "duplicate"):
                key = {"aggregate": item["aggregate"], "number": item["number"]}
                self._db.client.delete_item(TableName=self._db.name("outbox"), Key=to_attributes(key))
                report.moved += outcome == "moved"
                report.duplicates += outcome == "duplicate"
            else:
                blocked.add(item["aggregate"])
                report.failed += outcome == "failed"
                report.waiting += outcome == "waiting"
        return report

    def _move(self, item: Item) -> str:
        aggregate_type, aggregate_id = str(item["aggregate"]).split("/", 1)
        number = int(item["number"])
        with transaction.atomic():
            position = lock_position(self._consumer, aggregate_type, aggregate_id)
            if number <= position.last_sequence:
                return "duplicate"
            if number > position.last_sequence + 1:
                logger.info("outbox item %s #%s waits for #%s", item["aggregate"], number, position.last_sequence + 1)
                return "waiting"
            self._publish(event_of(item))
            ConsumerPosition.objects.filter(pk=position.pk).update(last_sequence=number)
        return "moved"
