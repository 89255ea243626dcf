"""The composition root: which adapters the inventory service runs on, chosen once from its settings.

::

    reservation = services.reservation_create(bootstrap.unit_of_work(), reference="o-1", lines=[("MUG", 2)])
    stock = queries.stock_get(bootstrap.reader(), sku="MUG")

``INVENTORY_REPOSITORY`` picks the storage: ``orm`` (Django models in the service's database; the default) or
``dynamodb`` (not built yet: refused at start-up with the setting named). Nothing here connects at import time.
"""

from __future__ import annotations

from functools import cache

from django.core.exceptions import ImproperlyConfigured

from extracted_services.common.capability import Capability
from extracted_services.common.config import ServiceConfig
from extracted_services.common.settings_builder import service_config
from extracted_services.inventory.adapters.orm_repository import DjangoInventoryRepository, DjangoUnitOfWork
from extracted_services.inventory.adapters.outbox import publish_event
from extracted_services.inventory.service_layer.repository import InventoryRepository
from extracted_services.inventory.service_layer.unit_of_work import AbstractUnitOfWork
from strangler_proxy.ownership import OwnershipView

REPOSITORIES = ("orm", "dynamodb")


def config() -> ServiceConfig:
    return service_config()


def check_configuration() -> None:
    """Refuse, at start-up, a storage this build cannot provide (called from the app's ``ready``)."""
    choice = config().repository
    if choice == "dynamodb":
        raise ImproperlyConfigured(
            "INVENTORY_REPOSITORY=dynamodb: the DynamoDB repository is not built yet; unset INVENTORY_REPOSITORY "
            "or set it to orm"
        )
    if choice not in REPOSITORIES:
        raise ImproperlyConfigured(f"INVENTORY_REPOSITORY must be one of {', '.join(REPOSITORIES)}, got {choice!r}")


def unit_of_work() -> AbstractUnitOfWork:
    """A unit of work whose events go to the outbox (the service's own writes)."""
    return DjangoUnitOfWork(publish=publish_event)


def replica_unit_of_work() -> AbstractUnitOfWork:
    """A unit of work that publishes nothing: applying the monolith's state must not echo back as events."""
    return DjangoUnitOfWork(publish=None)


def reader() -> InventoryRepository:
    """A repository for reads outside any unit of work (no transaction, no locks)."""
    return DjangoInventoryRepository()


@cache
def ownership() -> OwnershipView:
    """Who owns inventory writes now, from the proxy's state store (read only; None: the monolith owns all)."""
    return OwnershipView(config().strangler_state_url)


def capability() -> Capability:
    from extracted_services.inventory.entrypoints.snapshot import CAPABILITY

    return CAPABILITY
