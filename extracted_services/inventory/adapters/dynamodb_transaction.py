"""One unit of work on DynamoDB as ONE ``TransactWriteItems``: the write buffer, the conditional operations built
from it, and what a cancelled transaction means (``dynamodb.py`` has the repository and unit of work using it).

::

    operations = transaction_operations(db, writes, events, now)   # levels, reservations, ..., then outbox items
    send_transaction(db, operations)                                 # whole, or StaleLevel / StaleReservation / ...

Conditions: a stock level only if its ``version`` is still the one read (absent, for a zero level) and only if
the result keeps ``reserved >= 0`` and ``available >= 0`` (updated by deltas, so DynamoDB checks the stock it would
end with); a reservation only if its ``version`` is still the one read (absent, for a new one); an outbox item only
if its slot (aggregate, number) is free.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from extracted_services.inventory.adapters.dynamodb_outbox import aggregate_of, outbox_item
from extracted_services.inventory.adapters.dynamodb_tables import (
    DynamoDb,
    Item,
    from_attributes,
    image_key,
    to_attributes,
)
from extracted_services.inventory.domain.errors import Conflict, StaleLevel
from extracted_services.inventory.domain.events import Event, StockAdjusted
from extracted_services.inventory.domain.model import Adjustment, Reservation, StockLevel, Warehouse

Key = tuple[str, str]
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems


class StaleReservation(StaleLevel):
    """A reservation changed between its read and its write (its conditional write lost a race)."""

    def __init__(self, reservation_id: uuid.UUID) -> None:
        Conflict.__init__(
            self, "This reservation changed concurrently; retry the request.",
            details={"reservation_id": str(reservation_id)},
        )  # fmt: skip


class StockInvariantViolated(RuntimeError):
    """A write would leave ``reserved < 0`` or ``on_hand < reserved``: refused, as the ORM's check constraints do."""


class TransactionTooLarge(RuntimeError):
    """One unit of work would write more than DynamoDB commits in one transaction."""


@dataclass
class LevelWrite:
    read: StockLevel | None  # as stored when read; None: absent (a zero level), so it must still be absent
    events: int  # the aggregate's event counter as stored; becomes events + those emitted in this unit of work
    level: StockLevel


@dataclass
class ReservationRead:
    version: int
    events: int
    reference: str
    created_at: datetime


@dataclass
class ReservationWrite:
    read: ReservationRead | None
    events: int
    reservation: Reservation


@dataclass
class Writes:
    levels: dict[Key, LevelWrite] = field(default_factory=dict)
    reservations: dict[uuid.UUID, ReservationWrite] = field(default_factory=dict)
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)


def reservation_key(reservation_id: uuid.UUID) -> Item:
    return {"pk": f"reservation#{reservation_id}", "sk": "reservation"}


@dataclass(frozen=True)
class Operation:
    request: dict[str, Any]  # one TransactItems entry
    conflict: Callable[[Item | None], Exception]  # what its failed condition means, given the item as stored
    image: tuple[tuple[str, tuple[Any, ...]], Item] | None = None  # what a dry run's reads see


def transaction_operations(db: DynamoDb, writes: Writes, events: tuple[Event, ...], now: datetime) -> list[Operation]:
    """The TransactItems of one unit of work: its writes, each conditional, then its events as outbox items."""
    outbox = []
    for event in events:  # numbered after the aggregate's counter, which is written in the same transaction
        host: LevelWrite | ReservationWrite | None = (
            writes.levels.get(event.level.key) if isinstance(event, StockAdjusted)
            else writes.reservations.get(event.reservation.id)
        )  # fmt: skip
        if host is None:
            raise RuntimeError(f"{type(event).__name__}: its aggregate was not written in this unit of work")
        host.events += 1
        outbox.append(_put(db, "outbox", outbox_item(event, host.events, now), "aggregate", _outbox_conflict(event)))
    operations = [_level_operation(db, write, now) for write in writes.levels.values()]
    for write in writes.reservations.values():
        operations += _reservationtransaction_operations(db, write)
    operations += [_put(db, "adjustments", _adjustment_item(a), "id") for a in writes.adjustments]
    for w in writes.warehouses.values():
        operations.append(_put(db, "warehouses", {"code": w.code, "name": w.name, "priority": w.priority}, None))
    return operations + outbox


def _impossible(stored: Item | None) -> Exception:
    return RuntimeError(f"a write DynamoDB refused that no race explains: {stored}")


def _put(
    db: DynamoDb, role: str, item: Item, absent: str | None,
    conflict: Callable[[Item | None], Exception] = _impossible,
) -> Operation:  # fmt: skip
    """A Put of ``item``; with ``absent`` (a key attribute), only if no such item is stored yet."""
    request: dict[str, Any] = {"TableName": db.name(role), "Item": to_attributes(item)}
    if absent is not None:
        request.update(ConditionExpression="attribute_not_exists(#key)", ExpressionAttributeNames={"#key": absent})
    return Operation({"Put": request}, conflict, (image_key(role, item), item))


def _level_operation(db: DynamoDb, write: LevelWrite, now: datetime) -> Operation:
    level, read = write.level, write.read
    item = {
        "sku": level.sku, "warehouse": level.warehouse, "on_hand": level.on_hand, "reserved": level.reserved,
        "available": level.available, "version": level.version, "events": write.events, "updated_at": now.isoformat(),
    }  # fmt: skip

    def conflict(stored: Item | None) -> Exception:
        if read is not None and stored is not None and stored.get("version") == read.version:
            return StockInvariantViolated(f"DynamoDB refused {level}: reserved < 0 or on_hand < reserved")
        return StaleLevel(*level.key)

    if read is None:
        operation = _put(db, "stock", item, "sku", conflict)
        operation.request["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return operation
    on_hand, reserved = level.on_hand - read.on_hand, level.reserved - read.reserved
    values = {
        ":dh": on_hand, ":dr": reserved, ":da": on_hand - reserved, ":version": level.version,
        ":events": write.events, ":now": item["updated_at"], ":read": read.version,
        ":min_reserved": -reserved, ":min_available": reserved - on_hand,  # the result: reserved >= 0, available >= 0
    }  # fmt: skip
    request = {
        "TableName": db.name("stock"), "Key": to_attributes({"sku": level.sku, "warehouse": level.warehouse}),
        "UpdateExpression": "SET #on_hand = #on_hand + :dh, #reserved = #reserved + :dr, "
                            "#available = #available + :da, #version = :version, #events = :events, #updated_at = :now",
        "ConditionExpression": "#version = :read AND #reserved >= :min_reserved AND #available >= :min_available",
        "ExpressionAttributeNames": {f"#{name}": name for name in _LEVEL_ATTRIBUTES},
        "ExpressionAttributeValues": to_attributes(values), "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }  # fmt: skip
    return Operation({"Update": request}, conflict, (("stock", (level.sku, level.warehouse)), item))


_LEVEL_ATTRIBUTES = ("on_hand", "reserved", "available", "version", "events", "updated_at")


def _reservationtransaction_operations(db: DynamoDb, write: ReservationWrite) -> list[Operation]:
    r, read = write.reservation, write.read
    assert r.created_at is not None and r.updated_at is not None  # stamped by save_reservation
    item = {
        **reservation_key(r.id), "reference": r.reference, "status": str(r.status),
        "lines": [{"warehouse": x.warehouse, "sku": x.sku, "quantity": x.quantity, "consumed": x.consumed}
                  for x in r.lines],
        "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
        "version": read.version + 1 if read is not None else 1, "events": write.events,
    }  # fmt: skip
    operation = _put(db, "reservations", item, "pk" if read is None else None, lambda _: StaleReservation(r.id))
    if read is not None:
        operation.request["Put"].update(
            ConditionExpression="#version = :read", ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues=to_attributes({":read": read.version}),
        )  # fmt: skip
    operations = [operation]
    if read is None or read.reference != r.reference:  # the pointer that finds it by reference
        operations.append(_put(db, "reservations", {"pk": f"reference#{r.reference}", "sk": str(r.id)}, None))
    return operations


def _adjustment_item(adjustment: Adjustment) -> Item:
    assert adjustment.created_at is not None
    return {
        "id": adjustment.id, "warehouse": adjustment.warehouse, "sku": adjustment.sku, "delta": adjustment.delta,
        "reason": adjustment.reason, "actor_id": adjustment.actor_id, "on_hand_after": adjustment.on_hand_after,
        "created_at": adjustment.created_at.isoformat(),
    }  # fmt: skip


def _outbox_conflict(event: Event) -> Callable[[Item | None], Exception]:
    """An outbox slot already taken: another unit of work numbered an event of the same aggregate meanwhile."""
    aggregate_type, aggregate_id = aggregate_of(event)
    if aggregate_type == "stock":
        warehouse, sku = aggregate_id.split(":", 1)
        return lambda _: StaleLevel(warehouse, sku)
    return lambda _: StaleReservation(uuid.UUID(aggregate_id))


_LOST_RACE = {"ConditionalCheckFailed", "TransactionConflict"}


def send_transaction(db: DynamoDb, operations: list[Operation]) -> None:
    """Commit ``operations`` in one TransactWriteItems; a lost race raises what its operation says it means."""
    try:
        # The token makes a retry of a commit whose answer was lost (botocore retries) return, not apply it twice.
        db.client.transact_write_items(
            TransactItems=[op.request for op in operations], ClientRequestToken=str(uuid.uuid4())
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        for reason, operation in zip(exc.response.get("CancellationReasons") or (), operations, strict=False):
            if reason.get("Code") in _LOST_RACE:
                stored = from_attributes(reason["Item"]) if reason.get("Item") else None
                raise operation.conflict(stored) from exc
        raise
