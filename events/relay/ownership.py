"""Which outbox partitions this relay may send. One owner per partition keeps each aggregate's events in order.

- PostgreSQL: session advisory locks, one per partition. A relay that dies loses its connection and with it its
  locks, so a survivor takes the partitions over at once. Live relays (each holds a membership lock) share the
  partitions evenly.
- Other databases (SQLite): a single leader lease over every partition, renewed each loop; a standby takes over
  when it expires. Running several relays there is safe but only one sends.

Rows are not claimed one by one: owning a partition is what entitles a relay to send its pending rows, so a
partition taken over after a crash is simply read from its oldest pending row.
"""

from __future__ import annotations

import math
import zlib
from datetime import timedelta
from typing import Any, Protocol

from django.db import connection, transaction
from django.utils import timezone

from events.models import RelayLease, RelayProcess

ADVISORY_NAMESPACE = 0x5EA1  # first key of pg_try_advisory_lock(int, int): our locks, whatever else uses them
MEMBERSHIP_NAMESPACE = 0x5EA2  # one lock per live relay: gone the moment its session ends


class Ownership(Protocol):
    owned: frozenset[int]

    def refresh(self) -> None: ...

    def release(self) -> None: ...


def _heartbeat(name: str, owned: frozenset[int]) -> None:
    """Record this relay as alive and what it owns (for operators: ``RelayProcess`` in the admin)."""
    RelayProcess.objects.update_or_create(
        name=name, defaults={"heartbeat_at": timezone.now(), "partitions": sorted(owned)}
    )


def _held(cursor: Any, namespace: int) -> set[int]:
    cursor.execute(
        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
        "AND classid = %s AND objsubid = 2 AND granted",
        [namespace],
    )
    return {int(row[0]) for row in cursor.fetchall()}


class AdvisoryLockOwnership:
    def __init__(self, name: str, partitions: int, dead_after: float) -> None:
        self.name, self.partitions, self.dead_after = name, partitions, dead_after
        self.owned: frozenset[int] = frozenset()

    def refresh(self) -> None:
        _heartbeat(self.name, self.owned)
        with connection.cursor() as cursor:
            # Live relays are counted by their membership locks, not heartbeats: a SIGKILLed relay's lock is gone
            # with its connection (so survivors take its partitions at once) and a newcomer counts immediately.
            member_key = zlib.crc32(self.name.encode()) >> 1
            if member_key not in _held(cursor, MEMBERSHIP_NAMESPACE):
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [MEMBERSHIP_NAMESPACE, member_key])
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2 "
                "AND granted",
                [MEMBERSHIP_NAMESPACE],
            )
            live = int(cursor.fetchone()[0])
            share = math.ceil(self.partitions / max(live, 1))
            # Trust only what this session really holds: a reconnect silently drops advisory locks.
            owned = _held(cursor, ADVISORY_NAMESPACE)
            for partition in sorted(owned, reverse=True)[: max(len(owned) - share, 0)]:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, partition])
                owned.discard(partition)
            for partition in range(self.partitions):
                if len(owned) >= share:
                    break
                if partition in owned:
                    continue
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, partition])
                row = cursor.fetchone()
                if row is not None and row[0]:
                    owned.add(partition)
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
        _heartbeat(self.name, self.owned)
        now = timezone.now()
        expires = now + timedelta(seconds=self.dead_after)
        with transaction.atomic():
            lease, _ = RelayLease.objects.get_or_create(partition=0, defaults={"owner": self.name, "expires_at": now})
            mine = lease.owner == self.name
            if not mine and lease.expires_at >= now:
                self.owned = frozenset()
                return
            RelayLease.objects.filter(pk=lease.pk).update(owner=self.name, expires_at=expires)
        self.owned = frozenset(range(self.partitions))

    def release(self) -> None:
        RelayLease.objects.filter(owner=self.name).delete()
        RelayProcess.objects.filter(name=self.name).delete()
        self.owned = frozenset()


def ownership_for(name: str, partitions: int, dead_after: float) -> Ownership:
    if connection.vendor == "postgresql":
        return AdvisoryLockOwnership(name, partitions, dead_after)
    return LeaseOwnership(name, partitions, dead_after)
