"""The composition root: which adapters the inventory service runs on, chosen once from its settings.

::

    reservation = services.reservation_create(bootstrap.unit_of_work(), reference="o-1", lines=[("MUG", 2)])
    stock = queries.stock_get(bootstrap.reader(), sku="MUG")

``INVENTORY_REPOSITORY`` picks the storage: ``orm`` (Django models in the service's database; the default) or
``dynamodb`` (``adapters/dynamodb.py``: tables named by ``INVENTORY_DYNAMODB_TABLE_PREFIX``, at
``INVENTORY_DYNAMODB_ENDPOINT_URL`` if set, in ``AWS_DEFAULT_REGION``; read once into ``settings.INVENTORY_DYNAMODB``).
On DynamoDB the events wait in its outbox table until ``outbox_drain()`` moves them into the events outbox
(``python -m extracted_services.inventory dynamodb_outbox drain``). Nothing here connects at import time: the boto3
client is built on first use and makes no request until it is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any, Protocol

import boto3
from django.core.exceptions import ImproperlyConfigured

from events.aws.targets import client_config
from extracted_services.common.capability import Capability
from extracted_services.common.config import ServiceConfig
from extracted_services.common.settings_builder import service_config
from extracted_services.inventory.adapters import orm_snapshot
from extracted_services.inventory.adapters.dynamodb import DynamoDbInventoryRepository, DynamoDbUnitOfWork
from extracted_services.inventory.adapters.dynamodb_config import DynamoDbSettings
from extracted_services.inventory.adapters.dynamodb_outbox import OutboxDrain
from extracted_services.inventory.adapters.dynamodb_snapshot import DynamoDbSnapshot
from extracted_services.inventory.adapters.dynamodb_tables import DynamoDb
from extracted_services.inventory.adapters.orm_repository import DjangoInventoryRepository, DjangoUnitOfWork
from extracted_services.inventory.adapters.outbox import publish_event
from extracted_services.inventory.service_layer.repository import InventoryRepository
from extracted_services.inventory.service_layer.unit_of_work import AbstractUnitOfWork
from strangler_proxy.ownership import OwnershipView

REPOSITORIES = ("orm", "dynamodb")


def config() -> ServiceConfig:
    return service_config()


def dynamodb_settings() -> DynamoDbSettings:
    from django.conf import settings

    value: DynamoDbSettings = settings.INVENTORY_DYNAMODB  # type: ignore[misc]  # a setting of our own
    return value


def check_configuration() -> None:
    """Refuse, at start-up, a storage this build cannot provide (called from the app's ``ready``)."""
    choice = config().repository
    if choice not in REPOSITORIES:
        raise ImproperlyConfigured(f"INVENTORY_REPOSITORY must be one of {', '.join(REPOSITORIES)}, got {choice!r}")


def _on_dynamodb() -> bool:
    return config().repository == "dynamodb"


def unit_of_work() -> AbstractUnitOfWork:
    """A unit of work whose events go to the outbox (the service's own writes)."""
    if _on_dynamodb():
        return DynamoDbUnitOfWork(dynamodb(), publishes=True)
    return DjangoUnitOfWork(publish=publish_event)


def replica_unit_of_work() -> AbstractUnitOfWork:
    """A unit of work that publishes nothing: applying the monolith's state must not echo back as events."""
    if _on_dynamodb():
        return DynamoDbUnitOfWork(dynamodb(), publishes=False)
    return DjangoUnitOfWork(publish=None)


def reader() -> InventoryRepository:
    """A repository for reads outside any unit of work (no transaction, no locks)."""
    if _on_dynamodb():
        return DynamoDbInventoryRepository(dynamodb())
    return DjangoInventoryRepository()


class SnapshotDocuments(Protocol):
    """The service's records in the export's shape (reconcile's ``local`` side), from whichever store it runs on."""

    def warehouse_documents(self) -> Iterator[dict[str, Any]]: ...
    def stock_documents(self) -> Iterator[dict[str, Any]]: ...
    def reservation_documents(self) -> Iterator[dict[str, Any]]: ...


def snapshot_documents() -> SnapshotDocuments:
    if _on_dynamodb():
        return DynamoDbSnapshot(dynamodb())
    return orm_snapshot


@cache
def dynamodb() -> DynamoDb:
    """The DynamoDB client and table names, built once from the settings (no request is made here)."""
    settings = dynamodb_settings()
    session = boto3.session.Session(region_name=settings.region)
    client = session.client("dynamodb", endpoint_url=settings.endpoint_url, config=client_config())
    return DynamoDb(client, settings.tables)


def outbox_drain() -> OutboxDrain:
    """Moves the DynamoDB outbox's events into the events outbox, mapped as the ORM path publishes them."""
    return OutboxDrain(dynamodb(), publish=publish_event)


@cache
def ownership() -> OwnershipView:
    """Who owns inventory writes now, from the proxy's state store (read only; None: the monolith owns all)."""
    return OwnershipView(config().strangler_state_url)


def capability() -> Capability:
    from extracted_services.inventory.entrypoints.snapshot import CAPABILITY

    return CAPABILITY
