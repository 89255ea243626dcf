"""Access tokens the monolith signs for its own calls to the extracted services.

A service authorises a call from the token alone (``monolith.api.auth``), so the monolith signs, with its own
key, a token for a system principal carrying exactly the permissions an adapter needs. Authorising a payment is
done on behalf of the customer (the payment API takes the customer from the token), so that token's subject is
the customer, with no permission beyond being authenticated::

    signer = TokenSigner()
    signer.token(subject=SYSTEM_PRINCIPAL_ID, perms=("inventory.reserve_stock",))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

# No user has id 0: idempotency records and audit trails of system calls are told apart from customers'.
SYSTEM_PRINCIPAL_ID = 0
SYSTEM_USERNAME = "system:monolith"


class TokenSigner:
    """Signs tokens and reuses each one for half its lifetime (signing RS256 costs about a millisecond)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[int, tuple[str, ...]], tuple[float, str]] = {}

    def token(self, *, subject: int, perms: Sequence[str] = ()) -> str:
        key = (subject, tuple(sorted(perms)))
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
        signed = _sign(subject, key[1])
        reuse_for = api_settings.ACCESS_TOKEN_LIFETIME.total_seconds() / 2
        with self._lock:
            if len(self._cache) > 10_000:  # one entry per paying customer: keep it bounded
                self._cache.clear()
            self._cache[key] = (now + reuse_for, signed)
        return signed


def _sign(subject: int, perms: tuple[str, ...]) -> str:
    token = AccessToken()
    token[api_settings.USER_ID_CLAIM] = str(subject)
    system = subject == SYSTEM_PRINCIPAL_ID
    token["username"] = SYSTEM_USERNAME if system else f"customer:{subject}"
    token["is_staff"] = system
    token["perms"] = list(perms)
    return str(token)
