"""This service's whole inventory as documents in the export's shape, read from DynamoDB for reconciliation (the
DynamoDB twin of ``orm_snapshot.py``; ``bootstrap.snapshot_documents()`` picks one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from extracted_services.inventory.adapters.documents import level_document, reservation_document
from extracted_services.inventory.adapters.dynamodb import reservation_of_item
from extracted_services.inventory.adapters.dynamodb_tables import DynamoDb
from extracted_services.inventory.domain.model import DEFAULT_PRIORITY, StockLevel


class DynamoDbSnapshot:
    def __init__(self, db: DynamoDb) -> None:
        self._db = db

    def warehouse_documents(self) -> Iterator[dict[str, Any]]:
        for item in sorted(self._db.each("warehouses"), key=lambda item: item["code"]):
            priority = item.get("priority", DEFAULT_PRIORITY)
            yield {"code": item["code"], "name": item.get("name", ""), "priority": priority}

    def stock_documents(self) -> Iterator[dict[str, Any]]:
        for item in self._db.each("stock"):
            yield level_document(
                StockLevel(item["warehouse"], item["sku"], item["on_hand"], item["reserved"], item["version"])
            )

    def reservation_documents(self) -> Iterator[dict[str, Any]]:
        for item in self._db.each("reservations"):
            if item["sk"] == "reservation":  # not a reference pointer
                yield reservation_document(reservation_of_item(item))
