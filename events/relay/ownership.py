"""Which outbox partitions this relay may send. One owner per partition keeps each aggregate's events in order.

- PostgreSQL: session advisory locks, one per partition. A relay that dies loses its connection and with it its
  locks, so a survivor takes the partitions over at once. Live relays (heartbeats) share partitions evenly.
- Other databases (SQLite): a single leader lease over every partition, renewed each loop; a standby takes over
  when it expires. Running several relays there is safe but only one sends.

Whoever takes a partition over clears the claims its previous owner left, so no older row is skipped.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Protocol

from django.db import connection, transaction
from django.utils import timezone

from events.models import OutboxEvent, RelayLease, RelayProcess

ADVISORY_NAMESPACE = 0x5EA1  # first key of pg_try_advisory_lock(int, int): our locks, whatever else uses them


class Ownership(Protocol):
    owned: frozenset[int]

    def refresh(self) -> None: ...

    def release(self) -> None: ...


def _clear_foreign_claims(name: str, partitions: set[int]) -> None:
    if partitions:
        OutboxEvent.objects.filter(sent_at__isnull=True, partition__in=partitions).exclude(claimed_by=name).exclude(
            claimed_by=""
        ).update(claimed_by="", claimed_until=None)


def _heartbeat(name: str, owned: frozenset[int], dead_after: float) -> int:
    """Record this relay as alive and return how many relays are alive."""
    now = timezone.now()
    RelayProcess.objects.update_or_create(name=name, defaults={"heartbeat_at": now, "partitions": sorted(owned)})
    return RelayProcess.objects.filter(heartbeat_at__gte=now - timedelta(seconds=dead_after)).count()


class AdvisoryLockOwnership:
    def __init__(self, name: str, partitions: int, dead_after: float) -> None:
        self.name, self.partitions, self.dead_after = name, partitions, dead_after
        self.owned: frozenset[int] = frozenset()

    def refresh(self) -> None:
        live = _heartbeat(self.name, self.owned, self.dead_after)
        share = math.ceil(self.partitions / max(live, 1))
        with connection.cursor() as cursor:
            # Trust only what this session really holds: a reconnect silently drops advisory locks.
            cursor.execute(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND classid = %s AND objsubid = 2 AND granted",
                [ADVISORY_NAMESPACE],
            )
            owned = {int(row[0]) for row in cursor.fetchall()}
            for partition in sorted(owned, reverse=True)[: max(len(owned) - share, 0)]:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, partition])
                owned.discard(partition)
            gained: set[int] = set()
            for partition in range(self.partitions):
                if len(owned) >= share:
                    break
                if partition in owned:
                    continue
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, partition])
                row = cursor.fetchone()
                if row is not None and row[0]:
                    owned.add(partition)
                    gained.add(partition)
        _clear_foreign_claims(self.name, gained)
        self.owned = frozenset(owned)

    def release(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        RelayProcess.objects.filter(name=self.name).delete()
        self.owned = frozenset()


class LeaseOwnership:
    def __init__(self, name: str, partitions: int, dead_after: float) -> None:
        self.name, self.partitions, self.dead_after = name, partitions, dead_after
        self.owned: frozenset[int] = frozenset()

    def refresh(self) -> None:
        _heartbeat(self.name, self.owned, self.dead_after)
        now = timezone.now()
        expires = now + timedelta(seconds=self.dead_after)
        with transaction.atomic():
            lease, _ = RelayLease.objects.get_or_create(partition=0, defaults={"owner": self.name, "expires_at": now})
            mine = lease.owner == self.name
            if not mine and lease.expires_at >= now:
                self.owned = frozenset()
                return
            RelayLease.objects.filter(pk=lease.pk).update(owner=self.name, expires_at=expires)
            if not self.owned:
                _clear_foreign_claims(self.name, set(range(self.partitions)))
        self.owned = frozenset(range(self.partitions))

    def release(self) -> None:
        RelayLease.objects.filter(owner=self.name).delete()
        RelayProcess.objects.filter(name=self.name).delete()
        self.owned = frozenset()


def ownership_for(name: str, partitions: int, dead_after: float) -> Ownership:
    if connection.vendor == "postgresql":
        return AdvisoryLockOwnership(name, partitions, dead_after)
    return LeaseOwnership(name, partitions, dead_after)
