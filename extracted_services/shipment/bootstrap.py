"""The shipment service's composition root: the adapters the use cases run over, chosen once per process.

::

    deps = shipment_dependencies()         # Django ORM unit of work, ids minted per order
    capability()                           # what backfill, reconcile and replication status work on
"""

from __future__ import annotations

import functools
import uuid

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from extracted_services.common.capability import Capability, Record, Resource
from extracted_services.common.settings_builder import service_config
from extracted_services.shipment.adapters import replica
from extracted_services.shipment.adapters.orm import DjangoShipmentRepository, DjangoUnitOfWork
from extracted_services.shipment.adapters.outbox import AGGREGATE_TYPE
from extracted_services.shipment.service_layer.services import ShipmentDependencies
from strangler_proxy.buckets import bucket_of
from strangler_proxy.model import Side
from strangler_proxy.record_ids import mint_record_id

__all__ = ["capability", "check_configuration", "new_shipment_id", "shipment_dependencies"]

_EXPORT_FIELDS = frozenset({"aggregate_type", "aggregate_id", "sequence"})


def new_shipment_id(order_id: uuid.UUID) -> uuid.UUID:
    """The ownership rule (docs/extraction.md): a shipment's id carries its order's bucket."""
    return mint_record_id(bucket_of(str(order_id)), creator=Side.SERVICE)


def check_configuration() -> None:
    """Refuse, at start-up, a storage this service does not have (called from the app's ``ready``)."""
    repository = service_config().repository
    if repository != "orm":
        raise ImproperlyConfigured(
            f"SHIPMENT_REPOSITORY must be orm (the shipment service's only storage), got {repository!r}"
        )


@functools.cache
def shipment_dependencies() -> ShipmentDependencies:
    return ShipmentDependencies(
        uow=DjangoUnitOfWork, reader=DjangoShipmentRepository, new_id=new_shipment_id, clock=timezone.now
    )


def _shared(record: Record) -> dict[str, object]:
    return {k: v for k, v in record.items() if k not in _EXPORT_FIELDS}


@functools.cache
def capability() -> Capability:
    return Capability(
        name="shipments",
        consumer=replica.CONSUMER,
        aggregate_types=(AGGREGATE_TYPE,),
        resources=(
            Resource(
                name="shipments",
                path="shipments/",
                key=lambda record: str(record["shipment_id"]),
                shared=_shared,
                apply=replica.apply_export_page,
                local=replica.local_documents,
            ),
        ),
    )
