"""How far a service's replica has caught up with the monolith (docs/extraction.md, "Replication status").

``GET /internal/replication`` (internal token) and ``python -m extracted_services.<name> replication_status``::

    {"capability": "inventory", "applied": 41, "source_events": 42, "lag_events": 1, "lag_seconds": 0.8}

- ``applied``: the sum of the replica consumer's positions over the capability's aggregate types (backfill seeds
  included), so it compares directly with the monolith's event count (sequences are gap-free from 1);
- ``source_events``: the monolith's count from ``GET /api/export/<capability>/position``, null when unreachable;
  read with the internal token (``STRANGLER_INTERNAL_TOKEN``, which the monolith's position accepts) when this
  service has one, and with the monolith token (``MONOLITH_TOKEN``, ``MONOLITH_TOKEN_FILE``) when it has none or
  the monolith refuses it;
- ``lag_seconds``: now minus the time of the newest applied event; 0 when ``lag_events`` is 0 (nothing is
  waiting, however long ago the last change was), null when nothing was ever applied from an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from events.envelope import Envelope
from extracted_services.common.capability import Capability
from extracted_services.common.config import ServiceConfig
from extracted_services.common.export_client import (
    ExportClient,
    ExportError,
    ExportRefused,
    TokenMissing,
    resolve_token,
)
from extracted_services.common.internal import internal_only
from extracted_services.common.models import ReplicaWatermark
from extracted_services.common.positions import applied_total
from extracted_services.common.settings_builder import service_config
from monolith.api.errors import json_error


@dataclass(frozen=True)
class ReplicationStatus:
    capability: str
    applied: int
    source_events: int | None
    lag_events: int | None
    lag_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def record_applied(consumer: str, envelope: Envelope) -> None:
    """Note the event's time as its aggregate's newest applied (call from replica handlers, in their transaction)."""
    event_time = datetime.fromisoformat(envelope.time)
    mark, created = ReplicaWatermark.objects.get_or_create(
        consumer=consumer,
        aggregate_type=envelope.aggregatetype,
        aggregate_id=envelope.subject,
        defaults={"event_time": event_time},
    )
    if not created and mark.event_time < event_time:
        ReplicaWatermark.objects.filter(pk=mark.pk).update(event_time=event_time)


def replication_status(
    capability: Capability, *, source_events: int | None, now: datetime | None = None
) -> ReplicationStatus:
    applied = applied_total(consumer=capability.consumer, aggregate_types=capability.aggregate_types)
    lag_events = None if source_events is None else max(source_events - applied, 0)
    newest = ReplicaWatermark.objects.filter(consumer=capability.consumer).aggregate(newest=Max("event_time"))["newest"]
    if lag_events == 0:
        lag_seconds: float | None = 0.0
    elif newest is None:
        lag_seconds = None
    else:
        lag_seconds = round(max(((now or timezone.now()) - newest).total_seconds(), 0.0), 3)
    return ReplicationStatus(capability.name, applied, source_events, lag_events, lag_seconds)


def source_events(capability: Capability, config: ServiceConfig, *, token: str | None, timeout: float) -> int | None:
    """The monolith's event count for the capability, or None when it cannot be had (unreachable, refused...).

    ``token`` (``--token``) is used alone when given; otherwise the internal token, then the monolith token."""
    found = [token] if token is not None else [t for t in (config.internal_token, _monolith_token(config)) if t]
    candidates: list[str | None] = [*found] or [None]  # none: the position may be open to the network; try without
    for candidate in candidates:
        try:
            with ExportClient(config.monolith_url, candidate, timeout=timeout) as client:
                return client.position(capability.name)
        except ExportRefused:
            continue
        except ExportError:
            return None
    return None


def _monolith_token(config: ServiceConfig) -> str | None:
    try:
        return resolve_token(token=None, token_file=None, config=config)
    except TokenMissing:
        return None


def replication_view(get_capability: Callable[[], Capability]) -> Callable[[HttpRequest], HttpResponse]:
    """The ``GET /internal/replication`` view of the service whose capability ``get_capability`` returns."""

    @internal_only
    def replication(request: HttpRequest) -> HttpResponse:
        if request.method != "GET":
            response = json_error(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
            response["Allow"] = "GET"
            return response
        capability = get_capability()
        count = source_events(capability, service_config(), token=None, timeout=2.0)
        return JsonResponse(replication_status(capability, source_events=count).to_json())

    return replication
