"""Who owns a record right now, read by the monolith and the services with the proxy's own rule and state.

The proxy routes a request by its group's mode and percent and the request's bucket; the monolith and the
extracted services must agree with it when they decide, for their own calls and their own event handlers,
which side writes a record. This reader gives them the same answer from the same place: the proxy's state store
(read only), cached for a quarter of a second, the proxy's own polling interval.

::

    view = OwnershipView("sqlite:///var/proxy-state.sqlite3")
    view.owner("payment", key=str(order_id))          # Side.MONOLITH or Side.SERVICE, for a new record
    view.owner_of_record("payment", payment_id)       # the side that owns an existing record
    view.owner("inventory", key=sku)                  # reads follow the canary by key
    view.owner_of_writes("inventory")                 # a capability whose writes move at cut-over

The rule is the proxy's own: ``side_for_bucket`` is ``buckets.choose_side`` over the live state, and
``side_for_cutover_writes`` is what the proxy does with unsafe requests of a ``writes: at-cutover`` group.

Without a store (``OwnershipView(None)``) everything is owned by the monolith: a monolith run without the proxy.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from strangler_proxy.buckets import bucket_of, choose_side
from strangler_proxy.model import Mode, Side
from strangler_proxy.record_ids import routing_bucket
from strangler_proxy.state import GroupState, StateStore, open_store

__all__ = ["OwnershipView", "side_for_bucket", "side_for_cutover_writes"]


def side_for_bucket(state: GroupState | None, bucket: int | None, *, default: Side = Side.MONOLITH) -> Side:
    """The owning side for a record (or request) of ``bucket``; None is no bucket: a legacy record, a request
    without a key, a whole capability.

    Mode ``service`` owns everything; ``canary`` owns the buckets inside its percent (all at 100%, none at 0%)
    and gives ``default`` what has no bucket; otherwise the monolith.
    """
    if state is None:
        return Side.MONOLITH
    return choose_side(state.mode, state.percent, bucket, default)


def side_for_cutover_writes(state: GroupState | None) -> Side:
    """Who takes the writes of a ``writes: at-cutover`` capability: the service only once it is in mode service."""
    return Side.SERVICE if state is not None and state.mode is Mode.SERVICE else Side.MONOLITH


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

    @property
    def url(self) -> str | None:
        return self._url

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

    def refresh(self) -> None:
        """Read the store again on the next question, whatever the cache's age (after a refusal, say)."""
        with self._lock:
            self._read_at = float("-inf")

    def owner(self, group: str, *, key: str | None = None) -> Side:
        """The side that owns (or creates) a record keyed by ``key``; without a key, the capability as a whole."""
        return side_for_bucket(self.state(group), None if key is None else bucket_of(key))

    def owner_of_record(self, group: str, record_id: uuid.UUID | str) -> Side:
        """The side that owns a record: its creator until cut-over (minted ids), else the capability's owner."""
        return side_for_bucket(self.state(group), routing_bucket(record_id))

    def owner_of_writes(self, group: str) -> Side:
        """The side that takes writes of a capability whose writes move at cut-over (inventory)."""
        return side_for_cutover_writes(self.state(group))

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
