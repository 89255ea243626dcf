"""The payment service's composition root: the adapters the use cases run over, chosen once per process.

::

    deps = payment_dependencies()          # Django ORM unit of work, fake gateway, ids minted per order
    capability()                           # what backfill, reconcile and replication status work on
"""

from __future__ import annotations

import functools
import uuid

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from extracted_services.common.capability import Capability, Record, Resource
from extracted_services.common.settings_builder import service_config
from extracted_services.payment.adapters import replica
from extracted_services.payment.adapters.dry_run_gateway import DryRunSwitch
from extracted_services.payment.adapters.fake_gateway import FakeGateway
from extracted_services.payment.adapters.orm import DjangoPaymentRepository, DjangoUnitOfWork
from extracted_services.payment.adapters.outbox import AGGREGATE_TYPE
from extracted_services.payment.service_layer.services import PaymentDependencies
from monolith.api.dry_run import is_dry_run
from strangler_proxy.buckets import bucket_of
from strangler_proxy.model import Side
from strangler_proxy.record_ids import mint_record_id

__all__ = ["capability", "check_configuration", "new_payment_id", "payment_dependencies"]

_EXPORT_FIELDS = frozenset({"aggregate_type", "aggregate_id", "sequence"})


def new_payment_id(order_id: uuid.UUID | None) -> uuid.UUID:
    """The ownership rule (docs/extraction.md): an order's payment carries the order's bucket; others are v4."""
    return uuid.uuid4() if order_id is None else mint_record_id(bucket_of(str(order_id)), creator=Side.SERVICE)


def check_configuration() -> None:
    """Refuse, at start-up, a storage this service does not have (called from the app's ``ready``)."""
    repository = service_config().repository
    if repository != "orm":
        raise ImproperlyConfigured(
            f"PAYMENT_REPOSITORY must be orm (the payment service's only storage), got {repository!r}"
        )


@functools.cache
def payment_dependencies() -> PaymentDependencies:
    return PaymentDependencies(
        uow=DjangoUnitOfWork,
        reader=DjangoPaymentRepository,
        gateway=DryRunSwitch(real=FakeGateway(), is_dry_run=is_dry_run),
        new_id=new_payment_id,
        clock=timezone.now,
    )


def _shared(record: Record) -> dict[str, object]:
    return {k: v for k, v in record.items() if k not in _EXPORT_FIELDS}


@functools.cache
def capability() -> Capability:
    return Capability(
        name="payments",
        consumer=replica.CONSUMER,
        aggregate_types=(AGGREGATE_TYPE,),
        resources=(
            Resource(
                name="payments",
                path="payments/",
                key=lambda record: str(record["payment_id"]),
                shared=_shared,
                apply=replica.apply_export_page,
                local=replica.local_documents,
            ),
        ),
    )
