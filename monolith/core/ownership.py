"""Capability ownership in the monolith: the guard every write passes and the fence the cut-over sets.

::

    @transaction.atomic
    def payment_capture(*, payment_id):
        capability_write_guard("payments")    # CapabilityMoved (421) once payments moved; nothing written
        ...

    capability_fence(capability="payments")   # waits for writers in flight, then refuses new ones
    # -> CapabilityOwnership(fenced=True, position=N): N events published for payment aggregates, all committed

On PostgreSQL a writer share-locks the capability's row (``FOR SHARE``) until it commits and the fence locks it
``FOR UPDATE``, so the fence waits for every writer that passed the guard, and a writer arriving after the fence
waits for it and then reads ``fenced``. Writers of different capabilities, and of one capability, do not wait for
each other. On SQLite every write transaction already runs alone (``BEGIN IMMEDIATE``), so a plain read is enough.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from monolith.core.capabilities import CAPABILITY_AGGREGATES, capability_aggregate_types, capability_position
from monolith.core.errors import CapabilityMoved
from monolith.core.models import CapabilityOwnership

__all__ = ["capability_fence", "capability_ownership_get", "capability_unfence", "capability_write_guard"]

_SHARE_LOCK = "SELECT fenced FROM core_capabilityownership WHERE capability = %s FOR SHARE"


def _ensure_row(capability: str) -> None:
    CapabilityOwnership.objects.bulk_create([CapabilityOwnership(capability=capability)], ignore_conflicts=True)


def _fenced_share_locked(capability: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_SHARE_LOCK, [capability])
        row = cursor.fetchone()
        if row is None:  # first write of the capability (or the table was flushed): create the row to lock it
            _ensure_row(capability)
            cursor.execute(_SHARE_LOCK, [capability])
            row = cursor.fetchone()
    assert row is not None
    return bool(row[0])


def capability_write_guard(capability: str) -> None:
    """Refuse a write of ``capability`` once it is fenced. Call it first, inside the write's transaction."""
    if capability not in CAPABILITY_AGGREGATES:  # a programming error, not a client's: no 404
        raise ValueError(f"unknown capability {capability!r}")
    if not connection.in_atomic_block:
        raise RuntimeError(f"capability_write_guard({capability!r}) needs the write's transaction open")
    if connection.vendor == "postgresql":
        fenced = _fenced_share_locked(capability)
    else:
        fenced = CapabilityOwnership.objects.filter(pk=capability, fenced=True).exists()
    if fenced:
        raise CapabilityMoved(
            f"The {capability} capability has moved to its service; the monolith no longer accepts its writes.",
            details={"capability": capability},
        )


def capability_fence(*, capability: str) -> CapabilityOwnership:
    """Stop the monolith's writes of ``capability``; returns the row with ``position``. Fencing again is a no-op."""
    capability_aggregate_types(capability)
    with transaction.atomic():
        _ensure_row(capability)
        row = CapabilityOwnership.objects.select_for_update().get(pk=capability)
        if not row.fenced:
            row.fenced, row.fenced_at = True, timezone.now()
        # Read after the lock was granted: every writer that passed the guard has committed, its events counted.
        row.position = capability_position(capability=capability)
        row.save(update_fields=["fenced", "fenced_at", "position"])
    return row


def capability_unfence(*, capability: str) -> CapabilityOwnership:
    """Give ``capability``'s writes back to the monolith (a cut-over that timed out). Unfencing again is a no-op."""
    capability_aggregate_types(capability)
    with transaction.atomic():
        _ensure_row(capability)
        row = CapabilityOwnership.objects.select_for_update().get(pk=capability)
        row.fenced, row.fenced_at, row.position = False, None, None
        row.save(update_fields=["fenced", "fenced_at", "position"])
    return row


def capability_ownership_get(*, capability: str) -> CapabilityOwnership:
    """The capability's row (an unsaved, unfenced one if it was never written)."""
    capability_aggregate_types(capability)
    row = CapabilityOwnership.objects.filter(pk=capability).first()
    return row if row is not None else CapabilityOwnership(capability=capability)
