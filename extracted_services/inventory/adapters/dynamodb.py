"""The inventory repository and unit of work on DynamoDB (boto3): no locks, conditional writes in one transaction.

::

    db = DynamoDb(boto3_client, TableNames.with_prefix("inventory-"))      # bootstrap.dynamodb()
    with DynamoDbUnitOfWork(db, publishes=True) as uow:
        level = uow.inventory.level("A", "MUG").adjusted(+5)
        uow.inventory.save_levels([level])
        uow.emit(StockAdjusted(...))
        uow.commit()      # when the block ends: ONE TransactWriteItems with the level, the adjustment and the event

Reads are strongly consistent; ``lock=True`` only reads (DynamoDB has no row locks). Writes are buffered and sent
together when the block ends, each one conditional, so the transaction commits whole or not at all
(``dynamodb_transaction.py``):

- a stock level: only if its ``version`` is still the one read (absent, for a zero level), AND only if the result
  keeps ``reserved >= 0`` and ``available = on_hand - reserved >= 0``. Existing levels are updated by deltas
  (``on_hand = on_hand + :dh``), so DynamoDB itself checks the stock it would end with, whatever the caller computed;
- a reservation: only if its ``version`` is still the one read (absent, for a new one);
- each event: a new outbox item numbered after its aggregate's ``events`` counter (``dynamodb_outbox.py``).

A lost race cancels the transaction and raises ``StaleLevel`` (``StaleReservation`` for a reservation); the use
cases run again on fresh reads, as a writer queued on the ORM's row lock would have. A write that would make stock
negative although its version matched raises ``StockInvariantViolated``: a bug in the caller, like the ORM's
``IntegrityError`` from the same check constraints.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType

from extracted_services.inventory.adapters.dynamodb_tables import DynamoDb, Item, dry_run_images, to_attributes
from extracted_services.inventory.adapters.dynamodb_transaction import (
    MAX_TRANSACTION_ITEMS,
    Key,
    LevelWrite,
    ReservationRead,
    ReservationWrite,
    StaleReservation,
    StockInvariantViolated,
    TransactionTooLarge,
    Writes,
    reservation_key,
    send_transaction,
    transaction_operations,
)
from extracted_services.inventory.domain.errors import WarehouseNotFound
from extracted_services.inventory.domain.events import Event
from extracted_services.inventory.domain.model import (
    DEFAULT_PRIORITY,
    Adjustment,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    Warehouse,
)
from extracted_services.inventory.service_layer.unit_of_work import AbstractUnitOfWork

__all__ = [
    "DynamoDbInventoryRepository",
    "DynamoDbUnitOfWork",
    "StaleReservation",
    "StockInvariantViolated",
    "TransactionTooLarge",
    "reservation_of_item",
]


class DynamoDbInventoryRepository:
    """``InventoryRepository`` on DynamoDB. One per unit of work (it remembers what it read); without ``writes``, a
    reader that refuses to write."""

    def __init__(self, db: DynamoDb, writes: Writes | None = None) -> None:
        self._db = db
        self._writes = writes
        self._levels_read: dict[Key, tuple[StockLevel | None, int]] = {}
        self._reservations_read: dict[uuid.UUID, ReservationRead | None] = {}
        self._stored_warehouses: dict[str, Warehouse] | None = None

    def warehouses(self) -> Sequence[Warehouse]:
        return sorted(self._warehouses().values(), key=lambda w: w.rank)

    def save_warehouse(self, warehouse: Warehouse) -> None:
        self._pending().warehouses[warehouse.code] = warehouse

    def level(self, warehouse: str, sku: str) -> StockLevel:
        self._require_warehouse(warehouse)
        key = (warehouse, sku)
        return self._written_level(key) or self._seen(key, self._db.get("stock", {"sku": sku, "warehouse": warehouse}))

    def levels(self, skus: Collection[str], *, lock: bool) -> list[StockLevel]:
        found: dict[Key, StockLevel] = {}
        for sku in sorted(set(skus)):
            for item in self._db.query("stock", sku):
                key = (item["warehouse"], sku)
                found[key] = self._written_level(key) or self._seen(key, item)
        if self._writes is not None:
            found.update({k: w.level for k, w in self._writes.levels.items() if k[1] in skus and k not in found})
        return list(found.values())

    def save_levels(self, levels: Iterable[StockLevel]) -> None:
        writes = self._pending()
        for level in levels:
            self._require_warehouse(level.warehouse)
            current = writes.levels.get(level.key)
            if current is not None:
                current.level = level
            else:
                read, events = self._levels_read.get(level.key, (None, 0))
                current = writes.levels[level.key] = LevelWrite(read, events, level)
            if current.read is None and not 0 <= level.reserved <= level.on_hand:  # no stored item to condition on
                raise StockInvariantViolated(f"refused: {level} would have reserved < 0 or on_hand < reserved")

    def reservation(self, reservation_id: uuid.UUID, *, lock: bool) -> Reservation | None:
        if self._writes is not None and (written := self._writes.reservations.get(reservation_id)) is not None:
            return written.reservation
        item = self._db.get("reservations", reservation_key(reservation_id))
        self._reservations_read[reservation_id] = None if item is None else ReservationRead(
            version=item["version"], events=item.get("events", 0), reference=item["reference"],
            created_at=datetime.fromisoformat(item["created_at"]),
        )  # fmt: skip
        return None if item is None else reservation_of_item(item)

    def reservations_of(self, reference: str, *, lock: bool) -> list[Reservation]:
        ids = [uuid.UUID(pointer["sk"]) for pointer in self._db.query("reservations", f"reference#{reference}")]
        if self._writes is not None:
            ids += [i for i, w in self._writes.reservations.items() if w.reservation.reference == reference]
        found = [self.reservation(i, lock=lock) for i in dict.fromkeys(ids)]
        mine = [r for r in found if r is not None and r.reference == reference]
        return sorted(mine, key=lambda r: (r.created_at or datetime.now(UTC), str(r.id)))

    def save_reservation(self, reservation: Reservation) -> Reservation:
        writes = self._pending()
        for line in reservation.lines:
            self._require_warehouse(line.warehouse)
        current = writes.reservations.get(reservation.id)
        if current is None and reservation.id not in self._reservations_read:
            self.reservation(reservation.id, lock=True)  # an upsert unread so far: condition it on what is stored
        read = current.read if current is not None else self._reservations_read[reservation.id]
        now = datetime.now(UTC)
        created_at = read.created_at if read is not None else None
        if created_at is None:
            created_at = current.reservation.created_at if current is not None else reservation.created_at or now
        stamped = replace(reservation, created_at=created_at, updated_at=reservation.updated_at or now)
        events = current.events if current is not None else (read.events if read is not None else 0)
        writes.reservations[reservation.id] = ReservationWrite(read, events, stamped)
        return stamped

    def record_adjustment(self, adjustment: Adjustment) -> Adjustment:
        writes = self._pending()
        self._require_warehouse(adjustment.warehouse)
        stored = replace(adjustment, id=self._next_adjustment_id(), created_at=datetime.now(UTC))
        writes.adjustments.append(stored)
        return stored

    def _next_adjustment_id(self) -> int:
        """From the counter item (id 0): an id consumed by a unit of work that fails is skipped, as a sequence's."""
        if dry_run_images() is not None:  # write nothing: the id it would get
            counter = self._db.get("adjustments", {"id": 0})
            return int(counter["last_id"] if counter else 0) + 1
        answer = self._db.client.update_item(
            TableName=self._db.name("adjustments"), Key=to_attributes({"id": 0}), UpdateExpression="ADD #last :one",
            ExpressionAttributeNames={"#last": "last_id"}, ExpressionAttributeValues=to_attributes({":one": 1}),
            ReturnValues="UPDATED_NEW",
        )  # fmt: skip
        return int(answer["Attributes"]["last_id"]["N"])

    def _pending(self) -> Writes:
        if self._writes is None:
            raise RuntimeError("this repository only reads: write through a unit of work")
        return self._writes

    def _warehouses(self) -> dict[str, Warehouse]:
        if self._stored_warehouses is None:
            self._stored_warehouses = {
                item["code"]: Warehouse(item["code"], item.get("name", ""), item.get("priority", DEFAULT_PRIORITY))
                for item in self._db.scan("warehouses")
            }
        return {**self._stored_warehouses, **(self._writes.warehouses if self._writes else {})}

    def _require_warehouse(self, code: str) -> None:
        if code not in self._warehouses():
            raise WarehouseNotFound(code)

    def _written_level(self, key: Key) -> StockLevel | None:
        written = self._writes.levels.get(key) if self._writes is not None else None
        return None if written is None else written.level

    def _seen(self, key: Key, item: Item | None) -> StockLevel:
        if item is None:
            self._levels_read[key] = (None, 0)
            return StockLevel(*key)
        level = StockLevel(key[0], key[1], item["on_hand"], item["reserved"], item["version"])
        self._levels_read[key] = (level, item.get("events", 0))
        return level


def reservation_of_item(item: Item) -> Reservation:
    lines = tuple(
        ReservationLine(line["warehouse"], line["sku"], line["quantity"], bool(line["consumed"]))
        for line in item["lines"]
    )
    return Reservation(
        id=uuid.UUID(item["pk"].removeprefix("reservation#")), reference=item["reference"],
        status=ReservationStatus(item["status"]), lines=lines, created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
    )  # fmt: skip


class DynamoDbUnitOfWork(AbstractUnitOfWork):
    """Buffers a unit of work's writes and commits them, with its events, in one ``TransactWriteItems`` when the
    block ends after ``commit()``; leaving without it (or by an exception) sends nothing.

    ``publishes=False`` is the replica's: emitting an event is then an error, as with ``DjangoUnitOfWork(None)``.
    """

    def __init__(self, db: DynamoDb, *, publishes: bool) -> None:
        super().__init__()
        self._db = db
        self._publishes = publishes
        self._committed = False
        self._outgoing: tuple[Event, ...] = ()

    def _begin(self) -> None:
        self._writes = Writes()
        self._committed, self._outgoing = False, ()
        self.inventory = DynamoDbInventoryRepository(self._db, self._writes)

    def _commit(self, events: tuple[Event, ...]) -> None:
        if events and not self._publishes:
            raise RuntimeError("this unit of work publishes no events (a replica's): the change was not committed")
        self._outgoing, self._committed = events, True

    def _end(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None or not self._committed:
            return  # nothing was sent: forgetting the buffer is the rollback
        operations = transaction_operations(self._db, self._writes, self._outgoing, datetime.now(UTC))
        if len(operations) > MAX_TRANSACTION_ITEMS:
            raise TransactionTooLarge(
                f"this change needs {len(operations)} writes; DynamoDB commits at most {MAX_TRANSACTION_ITEMS} together"
            )
        images = dry_run_images()
        if images is not None:  # a dry run: keep what would be written for this request's reads, send nothing
            images.update(op.image for op in operations if op.image is not None)
        elif operations:
            send_transaction(self._db, operations)
