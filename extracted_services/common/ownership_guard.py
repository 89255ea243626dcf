"""A service writes only the records it owns: the rule the proxy routes by, checked again on the way in.

The proxy and the monolith's HTTP adapters send a service only writes of records it owns, by the same rule
(``strangler_proxy.ownership``). This guard makes that a property of the service itself: a write of a record the
monolith owns — a direct call, a stale route — is refused with 421 ``not_owner`` before anything is written, so a
record is never written on both sides. The cached state is read again before refusing, so a write released by a
cut-over that just flipped is not refused on a quarter-second-old view. Dry runs (``X-Strangler-Shadow: 1``) are
not checked: they roll back. Without ``STRANGLER_STATE_URL`` the service runs standalone (no migration in
progress) and the guard is off.

::

    guard_write(lambda view: view.owner_of_record("payment", payment_id))
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from extracted_services.common.settings_builder import service_config
from monolith.api.dry_run import is_dry_run
from monolith.core.errors import DomainError
from strangler_proxy.model import Side
from strangler_proxy.ownership import OwnershipView


class NotOwner(DomainError):
    status = 421  # Misdirected Request: nothing was done; the owner is the other side
    code = "not_owner"


_lock = threading.Lock()
_view: OwnershipView | None = None


def ownership_view() -> OwnershipView | None:
    """The service's reader of the proxy's state store; None when STRANGLER_STATE_URL is not set."""
    global _view
    url = service_config().strangler_state_url
    if url is None:
        return None
    with _lock:
        if _view is None or _view.url != url:
            _view = OwnershipView(url)
        return _view


def guard_write(decide: Callable[[OwnershipView], Side]) -> None:
    """Raise NotOwner unless ``decide`` says this service owns what the request writes."""
    view = ownership_view()
    if view is None or is_dry_run() or decide(view) is Side.SERVICE:
        return
    view.refresh()
    if decide(view) is not Side.SERVICE:
        raise NotOwner("The monolith owns this record; this service does not write it.")
