"""The monolith's own writes during a cut-over: held, as the proxy holds the group's requests, not failed.

The proxy holds a group's writes while it cuts the capability over, but the monolith's checkout, cancellation
and dispatch write inventory, payments and shipments themselves, in process. Until the fence they simply run
(the fence waits for writers in flight). A write that meets the fence fails with CapabilityMoved and rolls back
whole; ``held_write`` then waits, outside any transaction, until the proxy clears the hold — the cut-over
finished (the write now goes to the service) or was aborted (the fence is lifted) — and runs it again.

It never waits merely because a hold is set: a web worker parked before the fence could starve the fence
request itself (the monolith's sync workers are few), and the cut-over would stall.

Every wait is bounded; past it the caller gets 503 ``capability_moving`` and can retry.

::

    return held_write(lambda: run_idempotent(request, write))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from django.conf import settings

from monolith.core.errors import CapabilityMoved, UpstreamUnavailable
from strangler_proxy.ownership import OwnershipView

T = TypeVar("T")
GROUPS = ("inventory", "payment", "shipment")
WAIT_SECONDS = 8.0  # below the proxy's read timeout for the monolith (10 s), so the client gets our 503
POLL_SECONDS = 0.05

_lock = threading.Lock()
_view: OwnershipView | None = None


def ownership_view() -> OwnershipView:
    """A reader of the proxy's state store, built on first use from STRANGLER_STATE_URL (again if it changes)."""
    global _view
    with _lock:
        url = settings.STRANGLER_STATE_URL
        if _view is None or _view.url != url:
            if _view is not None:
                _view.close()
            _view = OwnershipView(url)
        return _view


class _GroupState(Protocol):
    @property
    def held(self) -> bool: ...


class _States(Protocol):
    def state(self, group: str) -> _GroupState | None: ...


def _moving(groups: tuple[str, ...]) -> UpstreamUnavailable:
    return UpstreamUnavailable(f"{', '.join(groups)} is moving to its service; try again.", code="capability_moving")


def wait_while_held(
    view: _States,
    groups: Iterable[str] = GROUPS,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once no group in ``groups`` is held by a cut-over; 503 once ``clock()`` passes ``deadline``."""
    names = tuple(groups)
    while held := tuple(g for g in names if (state := view.state(g)) is not None and state.held):
        if clock() >= deadline:
            raise _moving(held)
        sleep(POLL_SECONDS)


def held_write(
    run: Callable[[], T],
    *,
    own: str | None = None,
    view: _States | None = None,
    timeout: float = WAIT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``run()`` (a whole transaction), run again after the cut-over whose fence it met has ended.

    ``own`` names the capability the endpoint itself serves (``shipments`` for a dispatch): when that one has
    moved, waiting cannot help — the record now lives on the service — so its 421 goes back at once.
    """
    deadline = clock() + timeout
    while True:
        try:
            return run()
        except CapabilityMoved as exc:
            if own is not None and exc.details.get("capability") == own:
                raise
            if clock() >= deadline:
                raise _moving(GROUPS) from exc
            wait_while_held(view or ownership_view(), deadline=deadline, clock=clock, sleep=sleep)
            # The ownership readers cache for a quarter second: give them time to see the flip or the abort.
            sleep(POLL_SECONDS * 5)
