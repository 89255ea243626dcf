"""Inventory's DynamoDB tables: their keys, creating them, and reading items as plain Python values.

::

    db = DynamoDb(client, TableNames.with_prefix("inventory-"))
    create_tables(db)                                  # idempotent: [("inventory-stock", "created"), ...]
    db.query("stock", "MUG")                           # every warehouse's level of one SKU, strongly consistent

=================  ============================  ==============================================================
table (role)       key                           items
=================  ============================  ==============================================================
``warehouses``     ``code``                      ``name``, ``priority``
``stock``          ``sku`` + ``warehouse``       ``on_hand``, ``reserved``, ``available`` (= on_hand - reserved,
                                                 what the write conditions check), ``version``, ``events``
``reservations``   ``pk`` + ``sk``               ``reservation#<id>`` / ``reservation``: ``reference``, ``status``,
                                                 ``lines`` (list of maps), timestamps, ``version``, ``events``;
                                                 ``reference#<reference>`` / ``<id>``: one per reservation, so the
                                                 reservations of a reference are one consistent query (no index)
``adjustments``    ``id`` (number)               the history; item ``0`` holds the last id handed out
``outbox``         ``aggregate`` + ``number``    events committed with their change, until the drain moves them
=================  ============================  ==============================================================

``events`` on a stock or reservation item counts the events that aggregate has put in the outbox: the next one
is numbered ``events + 1``, in the same transaction, so an aggregate's outbox items are gap-free and ordered.

Reads are strongly consistent. While a dry-run request is served (``X-Strangler-Shadow: 1``) nothing is written:
the unit of work keeps what it would have written as images, and reads in that request see them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from extracted_services.inventory.adapters.dynamodb_config import TableNames
from monolith.api.dry_run import is_dry_run

KEYS: dict[str, tuple[str, ...]] = {
    "warehouses": ("code",),
    "stock": ("sku", "warehouse"),
    "reservations": ("pk", "sk"),
    "adjustments": ("id",),
    "outbox": ("aggregate", "number"),
}
_NUMBER_KEYS = {"id", "number"}

Item = dict[str, Any]
ImageKey = tuple[str, tuple[Any, ...]]  # (role, key values)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: Item) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def from_attributes(attributes: dict[str, Any]) -> Item:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in attributes.items()}


def _plain(value: Any) -> Any:
    """Numbers back as ints (every number stored here is whole), inside lists and maps too."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def image_key(role: str, item: Item) -> ImageKey:
    return (role, tuple(item[name] for name in KEYS[role]))


@dataclass(frozen=True)
class DynamoDb:
    """A boto3 DynamoDB client and the names of inventory's tables (``bootstrap.dynamodb()`` builds it)."""

    client: Any
    tables: TableNames

    def name(self, role: str) -> str:
        name: str = getattr(self.tables, role)
        return name

    def get(self, role: str, key: Item) -> Item | None:
        images = dry_run_images()
        if images is not None and (hit := images.get(image_key(role, key))) is not None:
            return hit
        answer = self.client.get_item(TableName=self.name(role), Key=to_attributes(key), ConsistentRead=True)
        return from_attributes(answer["Item"]) if "Item" in answer else None

    def query(self, role: str, partition: Any) -> list[Item]:
        """Every item whose partition (hash) key is ``partition``, in sort-key order."""
        hash_key = KEYS[role][0]
        pages = self._pages(
            "query", TableName=self.name(role), KeyConditionExpression="#h = :h", ConsistentRead=True,
            ExpressionAttributeNames={"#h": hash_key}, ExpressionAttributeValues=to_attributes({":h": partition}),
        )  # fmt: skip
        return self._with_images(role, pages, lambda item: item[hash_key] == partition)

    def scan(self, role: str) -> list[Item]:
        return self._with_images(role, self._pages("scan", TableName=self.name(role), ConsistentRead=True), None)

    def each(self, role: str) -> Iterator[Item]:
        """Every stored item, page by page (a consistent scan; for reconciliation, not for the use cases)."""
        return self._pages("scan", TableName=self.name(role), ConsistentRead=True)

    def _pages(self, operation: str, **request: Any) -> Iterator[Item]:
        for page in self.client.get_paginator(operation).paginate(**request):
            for attributes in page.get("Items", ()):
                yield from_attributes(attributes)

    def _with_images(self, role: str, stored: Iterator[Item], wanted: Any) -> list[Item]:
        images = dry_run_images()
        if images is None:
            return list(stored)
        found = {image_key(role, item): item for item in stored}
        found.update({k: v for k, v in images.items() if k[0] == role and (wanted is None or wanted(v))})
        return list(found.values())


# -- dry runs ------------------------------------------------------------------------------------------------------

_images: ContextVar[tuple[object, dict[ImageKey, Item]] | None] = ContextVar("inventory_dynamodb_images", default=None)


def dry_run_images() -> dict[ImageKey, Item] | None:
    """What this dry-run request's units of work would have written; None outside a dry run.

    A context variable outlives a request on a thread, so the images are tied to the request's outermost
    transaction (the dry-run middleware opens it): a later request on the same thread starts with none.
    """
    if not is_dry_run():
        return None
    from django.db import connection

    blocks = getattr(connection, "atomic_blocks", None)
    scope: object = blocks[0] if blocks else object()
    held = _images.get()
    if held is None or held[0] is not scope:
        held = (scope, {})
        _images.set(held)
    return held[1]


# -- creating the tables -------------------------------------------------------------------------------------------


def create_tables(db: DynamoDb) -> list[tuple[str, str]]:
    """Create the tables that are missing (on demand capacity) and wait until they are active.

    Returns ``(name, "created" | "exists")`` for each; running it again creates nothing.
    """
    existing = {name for page in db.client.get_paginator("list_tables").paginate() for name in page["TableNames"]}
    outcomes = []
    for role, key in KEYS.items():
        name = db.name(role)
        outcome = "exists"
        if name not in existing:
            try:
                db.client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **_key_schema(key))
                outcome = "created"
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":  # created meanwhile
                    raise
        outcomes.append((name, outcome))
    for name, _ in outcomes:
        db.client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return outcomes


def _key_schema(key: tuple[str, ...]) -> dict[str, Any]:
    roles = zip(key, ("HASH", "RANGE"), strict=False)
    return {
        "KeySchema": [{"AttributeName": name, "KeyType": role} for name, role in roles],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "N" if a in _NUMBER_KEYS else "S"} for a in key],
    }


def missing_tables(db: DynamoDb) -> list[str]:
    existing = {name for page in db.client.get_paginator("list_tables").paginate() for name in page["TableNames"]}
    return [name for name in db.tables.all() if name not in existing]
