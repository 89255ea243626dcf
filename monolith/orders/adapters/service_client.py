"""One extracted service over HTTP: a lazily built httpx client, bearer tokens, idempotency keys, and the
service's JSON errors turned back into the monolith's ``DomainError`` tree.

::

    client = ServiceClient("payment", "http://127.0.0.1:8102", signer=TokenSigner())
    body = client.call("POST", "/api/payments/<id>/capture/", json={}, idempotency_key="payment:<id>:capture",
                       perms=("payments.capture_payment",))

While the monolith serves a dry-run request (``X-Strangler-Shadow: 1``) every call carries that header too, so the
service runs it and rolls it back as well.

Error mapping (the checkout answers the same whichever side served it)::

    service answer                        raised here
    400, 402, 404, 409, 421, 422 ...      the DomainError subclass of that status, same code, message, details
                                          (409 insufficient_stock: InsufficientStock)
    401, 403                              UpstreamUnavailable <name>_refused (the monolith's token was refused)
    5xx, or no JSON error body            UpstreamUnavailable (503), the service's code if it sent one
    not connected (refused, DNS, pool)    UpstreamUnavailable <name>_unavailable: nothing was sent
    sent, no answer (timeout, reset)      RemoteOutcomeUnknown: the effect may exist; replay to learn it
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from monolith.api.dry_run import SHADOW_HEADER, is_dry_run
from monolith.core.errors import Conflict, DomainError, NotFound, PaymentDeclined, UpstreamUnavailable
from monolith.inventory.errors import InsufficientStock
from monolith.orders.adapters.tokens import SYSTEM_PRINCIPAL_ID, TokenSigner
from monolith.orders.ports import RemoteOutcomeUnknown

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=2.0, pool=2.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0)
# A connection that was never made sent nothing, so trying once more cannot double an effect.
CONNECT_ATTEMPTS = 2

_BY_STATUS: dict[int, type[DomainError]] = {402: PaymentDeclined, 404: NotFound, 409: Conflict}
_BY_CODE: dict[str, type[DomainError]] = {"insufficient_stock": InsufficientStock}
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class ServiceClient:
    """Calls to one service's public API, with the same paths, bodies and answers as the monolith's."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        signer: TokenSigner,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._signer = signer
        self._timeout = timeout
        self._limits = limits
        self._transport = transport
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self.base_url, timeout=self._timeout, limits=self._limits, transport=self._transport
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        subject: int = SYSTEM_PRINCIPAL_ID,
        perms: Sequence[str] = (),
    ) -> Any:
        """The JSON body of a 2xx answer; any other outcome raises (see the module's table)."""
        headers = {"Authorization": f"Bearer {self._signer.token(subject=subject, perms=perms)}"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if is_dry_run():  # a dry-run request here is one at the service too: it runs, answers and rolls back
            headers[SHADOW_HEADER] = "1"
        response = self._send(method, path, json=json, params=params, headers=headers)
        if response.is_success:
            return response.json()
        raise self._error(response)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                return self._http().request(method, path, **kwargs)
            except _NOT_SENT as exc:
                if attempt == CONNECT_ATTEMPTS:
                    logger.warning("%s service unreachable: %s %s: %r", self.name, method, path, exc)
                    raise UpstreamUnavailable(
                        f"The {self.name} service is not reachable; nothing was changed. Try again.",
                        code=f"{self.name}_unavailable",
                    ) from exc
            except httpx.TransportError as exc:
                logger.warning("%s service gave no answer: %s %s: %r", self.name, method, path, exc)
                raise RemoteOutcomeUnknown(
                    f"The {self.name} service did not answer in time. Try again.",
                    details={"service": self.name},
                ) from exc
        raise AssertionError("unreachable")

    def _error(self, response: httpx.Response) -> DomainError:
        status = response.status_code
        try:
            error = response.json()["error"]
            code, message, details = str(error["code"]), str(error["message"]), error.get("details") or {}
        except (ValueError, KeyError, TypeError):
            code, message, details = "", "", {}
        if status in (401, 403):
            logger.error("%s service refused the monolith's token: %s %s", self.name, status, code)
            return UpstreamUnavailable(
                f"The {self.name} service refused the monolith's credentials.", code=f"{self.name}_refused"
            )
        if status >= 500 or not code:
            logger.warning("%s service failed: %s %s", self.name, status, code or response.text[:200])
            return UpstreamUnavailable(
                message or f"The {self.name} service failed. Try again.",
                code=code or f"{self.name}_failed",
                details=details,
            )
        cls = _BY_CODE.get(code) or _BY_STATUS.get(status, DomainError)
        exc = cls(message, code=code, details=details)
        if exc.status != status:
            exc.status = status  # a status the tree has no class for (421 capability_moved, 422 ...): keep it
        return exc
