"""Who owns a record right now, read by the monolith and the services with the proxy's own rule and state.

The proxy routes a request by its group's mode and percent and the request's bucket; the monolith and the
extracted services must agree with it when they decide, for their own calls and their own event handlers,
which side writes a record. This reader gives them the same answer from the same place: the proxy's state store
(read only), cached for a quarter of a second, the proxy's own polling interval.

::

    view = OwnershipView("sqlite:///var/proxy-state.sqlite3")
    view.owner("payment", key=str(order_id))          # Side.MONOLITH or Side.SERVICE, for a new record
    view.owner_of_record("payment", payment_id)       # the side that owns an existing record
    view.owner("inventory")                           # a capability moved as a whole (inventory writes)

Without a store (``OwnershipView(None)``) everything is owned by the monolith: a monolith run without the proxy.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from strangler_proxy.buckets import bucket_of, in_canary
from strangler_proxy.model import Mode, Side
from strangler_proxy.record_ids import embedded_bucket
from strangler_proxy.state import GroupState, StateStore, open_store

__all__ = ["OwnershipView", "side_for_bucket"]


def side_for_bucket(state: GroupState | None, bucket: int | None) -> Side:
    """The owning side for a record of ``bucket`` (None: no bucket, a legacy record or a whole capability).

    Mode ``service`` owns everything; ``canary`` owns the buckets inside its percent; otherwise the monolith.
    """
    if state is None or state.mode in (Mode.MONOLITH, Mode.SHADOW):
        return Side.MONOLITH
    if state.mode is Mode.SERVICE or state.percent >= 100:
        return Side.SERVICE
    if bucket is None:
        return Side.MONOLITH
    return Side.SERVICE if in_canary(bucket, state.percent) else Side.MONOLITH


class OwnershipView:
    """A cached, thread-safe, read-only view of the groups' state in the proxy's store."""

    def __init__(
        self,
        store_url: str | None,
        *,
        ttl: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        opener: Callable[[str], StateStore] = open_store,
    ) -> None:
        self._url = store_url
        self._ttl = ttl
        self._clock = clock
        self._opener = opener
        self._lock = threading.Lock()
        self._store: StateStore | None = None
        self._states: dict[str, GroupState] = {}
        self._read_at = float("-inf")

    def state(self, group: str) -> GroupState | None:
        """The group's live state, or None when there is no store or the store does not know the group."""
        if self._url is None:
            return None
        with self._lock:
            now = self._clock()
            if now - self._read_at >= self._ttl:
                if self._store is None:
                    self._store = self._opener(self._url)
                self._states = self._store.groups()
                self._read_at = now
            return self._states.get(group)

    def owner(self, group: str, *, key: str | None = None) -> Side:
        """The side that owns (or creates) a record keyed by ``key``; without a key, the capability as a whole."""
        return side_for_bucket(self.state(group), None if key is None else bucket_of(key))

    def owner_of_record(self, group: str, record_id: uuid.UUID | str) -> Side:
        """The side that owns a record whose id was minted with its bucket (legacy ids: as a whole)."""
        return side_for_bucket(self.state(group), embedded_bucket(record_id))

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
