"""The cut-over write barrier: how ``PATCH /routes/{group} {"mode": "service"}`` moves a capability's writes.

docs/extraction.md ("Write barrier") is the contract. For a group with a ``cutover`` section, not yet in mode
``service``:

0. converge: while the service is more than ``cutover.converge_events`` behind the monolith (its position from
   ``GET {monolith}/api/export/{capability}/position``, the service's ``applied``), wait, writes still flowing —
   so the pause below covers the last few events, not a backlog (bounded by ``cutover.timeout``; if the
   position cannot be read, this step is skipped);
1. hold the group in the state store (every instance parks its unsafe requests) and wait one poll interval, so
   that every instance parks before the monolith stops taking writes;
2. ``POST {monolith}/internal/ownership/{capability}/fence`` → ``{"position": N}``;
3. poll ``GET {service}/internal/replication`` every 50 ms until ``applied >= N``;
4. set mode ``service`` and clear the hold in one store transaction: parked requests go to the service.

Steps 2 and 3 together are bounded by ``cutover.timeout``. On a timeout (504) or a failed call (502) the barrier
unfences the monolith, clears the hold, leaves the mode as it was and audits why. The internal calls carry
``Authorization: Bearer`` with the token in the ``cutover.token_env`` variable, read when the cut-over starts.

::

    barrier = CutoverBarrier(proxy, env=os.environ)
    result = await barrier.run(group, percent=None, reason="inventory moves", who="ops")
    result.pause_ms, result.position, result.entry        # CutoverRefused (409), CutoverAborted (502/504)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from strangler_proxy import metrics
from strangler_proxy.app import POLL_SECONDS, ProxyApp
from strangler_proxy.model import Cutover, Group, Mode
from strangler_proxy.state import AuditEntry

__all__ = ["CutoverAborted", "CutoverBarrier", "CutoverError", "CutoverRefused", "CutoverResult"]

logger = logging.getLogger("strangler_proxy.cutover")


class CutoverError(Exception):
    """A cut-over that did not happen, as the admin API answers it (JSON error shape)."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


class CutoverRefused(CutoverError):
    """Refused before anything changed (409)."""


class CutoverAborted(CutoverError):
    """Started, then undone: unfenced, hold cleared, mode unchanged, audited (502 or 504)."""


@dataclass(frozen=True)
class CutoverResult:
    entry: AuditEntry
    pause_ms: int  # from the hold being set to the change that clears it
    position: int  # the monolith's event count at the fence, which the service had applied
    fence_ms: int = 0  # of the pause: the monolith's fence (it waits for writers in flight)
    catch_up_ms: int = 0  # of the pause: the service applying the last events


class _Failed(Exception):
    def __init__(self, status: int, code: str, why: str, applied: int | None = None) -> None:
        super().__init__(why)
        self.status, self.code, self.why, self.applied = status, code, why, applied


class CutoverBarrier:
    """Runs cut-overs for one admin API; one at a time per group (the store's hold guards other instances)."""

    def __init__(
        self,
        proxy: ProxyApp,
        *,
        env: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None = None,
        poll_seconds: float = 0.05,
        propagation_seconds: float = POLL_SECONDS + 0.05,
    ) -> None:
        self.proxy, self._env, self._transport = proxy, env, transport
        self._poll, self._propagation = poll_seconds, propagation_seconds
        self._running: set[str] = set()

    def running(self, group: str) -> bool:
        return group in self._running

    async def run(self, group: Group, *, percent: float | None, reason: str, who: str) -> CutoverResult:
        cutover = group.cutover
        if cutover is None:
            raise ValueError(f"group {group.name} has no cutover section")
        token = self._env.get(cutover.token_env, "").strip()
        if not token:
            message = (f"{cutover.token_env} is not set in the proxy's environment: the monolith's fence needs the "
                       "internal token. Nothing changed.")  # fmt: skip
            raise CutoverRefused(409, "internal_token_missing", message)
        if group.name in self._running:
            raise CutoverRefused(409, "cutover_in_progress", f"A cut-over of {group.name} is already running.")
        self._running.add(group.name)
        try:
            await self._converge(group, cutover, token)
            if await asyncio.to_thread(self.proxy.store.hold, group.name, True):
                message = (f"{group.name} is already held: a cut-over is running on another instance (or one was "
                           'interrupted: clear it with {"held": false, "reason": ...}). Nothing changed.')  # fmt: skip
                raise CutoverRefused(409, "cutover_in_progress", message)
            return await self._barrier(group, cutover, token, percent=percent, reason=reason, who=who)
        finally:
            self._running.discard(group.name)

    async def _barrier(
        self, group: Group, cutover: Cutover, token: str, *, percent: float | None, reason: str, who: str
    ) -> CutoverResult:
        held_at = time.perf_counter()
        headers = {"Authorization": f"Bearer {token}"}
        position: int | None = None
        async with httpx.AsyncClient(transport=self._transport, headers=headers) as client:
            try:
                await self._refresh()  # this instance parks at once; the others within a poll
                await asyncio.sleep(self._propagation)
                deadline = held_at + cutover.timeout
                fence_at = time.perf_counter()
                position = await self._fence(client, group, cutover, deadline)
                fenced_at = time.perf_counter()
                await self._catch_up(client, group, cutover, position, deadline)
                caught_up_at = time.perf_counter()
                pause_ms = round((caught_up_at - held_at) * 1000)
                text = f"{reason} (cut-over: writes held {pause_ms} ms, position {position})"
                entry = await asyncio.to_thread(
                    self.proxy.store.change, group.name, mode=Mode.SERVICE, percent=percent, reason=text, who=who,
                    automatic=False, held=False,
                )  # fmt: skip
            except _Failed as failure:
                await self._abort(client, group, cutover, held_at, failure.why, reason=reason, who=who)
                details = {"position": position, "applied": failure.applied}
                raise CutoverAborted(failure.status, failure.code, _aborted(group, failure.why), details) from None
            except BaseException as exc:  # cancelled, or the store failed: never leave the group held
                why = "interrupted" if isinstance(exc, asyncio.CancelledError) else f"failed: {exc}"
                await asyncio.shield(self._abort(client, group, cutover, held_at, why, reason=reason, who=who))
                raise
        try:
            await self._refresh()
        except Exception:  # done all the same: the poll catches up within a quarter of a second
            logger.exception("reading the state after the cut-over of %s failed", group.name)
        metrics.CUTOVERS.labels(group.name, "done").inc()
        metrics.CUTOVER_PAUSE.labels(group.name).set(pause_ms / 1000)
        fence_ms, catch_up_ms = round((fenced_at - fence_at) * 1000), round((caught_up_at - fenced_at) * 1000)
        logger.info("group %s cut over to the service: writes held %d ms (fence %d ms, catch-up %d ms), position %d",
                    group.name, pause_ms, fence_ms, catch_up_ms,
                    position)  # fmt: skip
        return CutoverResult(entry, pause_ms, position, fence_ms, catch_up_ms)

    async def _converge(self, group: Group, cutover: Cutover, token: str) -> None:
        position_url = f"{self._url(self.proxy.config.monolith)}/api/export/{cutover.capability}/position"
        applied_url = f"{self._url(group.service)}/internal/replication"
        deadline = time.perf_counter() + cutover.timeout
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=self._transport, headers=headers) as client:
            while time.perf_counter() < deadline:
                try:
                    position = await self._call(client, "GET", position_url, deadline, "the monolith's position")
                    applied = await self._call(client, "GET", applied_url, deadline, "the replication status")
                except _Failed as failure:
                    logger.warning("cut-over of %s: not converging first (%s)", group.name, failure.why)
                    return
                behind = _int(position.get("events")) - _int(applied.get("applied"))
                if behind <= cutover.converge_events:
                    return
                await asyncio.sleep(self._poll)
        logger.warning("cut-over of %s: the service was still behind after %g s", group.name, cutover.timeout)

    async def _fence(self, client: httpx.AsyncClient, group: Group, cutover: Cutover, deadline: float) -> int:
        url = f"{self._url(self.proxy.config.monolith)}/internal/ownership/{cutover.capability}/fence"
        body = await self._call(client, "POST", url, deadline, f"the monolith's fence of {cutover.capability}")
        position = body.get("position")
        if not _count(position):
            raise _Failed(502, "cutover_upstream_failed", f"the monolith's fence answered no position: {body!r:.200}")
        return int(position)

    async def _catch_up(
        self, client: httpx.AsyncClient, group: Group, cutover: Cutover, position: int, deadline: float
    ) -> None:
        url = f"{self._url(group.service)}/internal/replication"
        applied: int | None = None
        while True:
            what = f"the {group.service} service's replication status"
            try:
                body = await self._call(client, "GET", url, deadline, what)
            except _Failed as failure:
                failure.applied = applied
                raise
            applied = body.get("applied")
            if not _count(applied):
                raise _Failed(502, "cutover_upstream_failed", f"{what} has no applied count: {body!r:.200}")
            if applied >= position:
                return
            if time.perf_counter() + self._poll >= deadline:
                why = (f"the {group.service} service had applied {applied} of {position} events when the "
                       f"{cutover.timeout:g} s cut-over timeout ran out")  # fmt: skip
                raise _Failed(504, "cutover_timeout", why, applied)
            await asyncio.sleep(self._poll)

    async def _call(self, client: httpx.AsyncClient, method: str, url: str, deadline: float, what: str) -> Any:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise _Failed(504, "cutover_timeout", f"the cut-over timeout ran out before {what} answered")
        try:
            response = await client.request(method, url, timeout=remaining)
        except httpx.TimeoutException:
            raise _Failed(504, "cutover_timeout", f"{what} did not answer within the cut-over timeout") from None
        except httpx.HTTPError as exc:
            why = f"{what} could not be reached ({type(exc).__name__})"
            raise _Failed(502, "cutover_upstream_failed", why) from None
        if response.status_code != 200:
            raise _Failed(502, "cutover_upstream_failed", f"{what} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise _Failed(502, "cutover_upstream_failed", f"{what} did not answer JSON") from None
        if not isinstance(body, dict):
            raise _Failed(502, "cutover_upstream_failed", f"{what} did not answer a JSON object")
        return body

    async def _abort(
        self, client: httpx.AsyncClient, group: Group, cutover: Cutover, held_at: float, why: str, *, reason: str,
        who: str,
    ) -> None:  # fmt: skip
        """Unfence, clear the hold and audit; each step is tried even when an earlier one failed."""
        url = f"{self._url(self.proxy.config.monolith)}/internal/ownership/{cutover.capability}/unfence"
        try:
            response = await client.post(url, timeout=10.0)
            status = response.status_code
            unfenced = "monolith unfenced" if status == 200 else f"the monolith's unfence answered {status}"
        except httpx.HTTPError as exc:
            unfenced = f"unfence failed ({type(exc).__name__})"
        pause_ms = round((time.perf_counter() - held_at) * 1000)
        text = f"{reason} (cut-over aborted: {why}; writes held {pause_ms} ms, {unfenced}; mode unchanged)"
        try:
            await asyncio.to_thread(self.proxy.store.change, group.name, mode=None, percent=None, reason=text, who=who,
                                    automatic=False, held=False)  # fmt: skip
        except Exception:
            logger.exception("auditing the aborted cut-over of %s failed; clearing its hold", group.name)
            await asyncio.to_thread(self.proxy.store.hold, group.name, False)
        try:
            await self._refresh()
        except Exception:
            logger.exception("reading the state after the aborted cut-over of %s failed", group.name)
        metrics.CUTOVERS.labels(group.name, "aborted").inc()
        logger.error("cut-over of %s aborted: %s (%s)", group.name, why, unfenced)

    async def _refresh(self) -> None:
        self.proxy._apply(await asyncio.to_thread(self.proxy.store.groups))

    def _url(self, upstream: str) -> str:
        return self.proxy.config.upstreams[upstream].url


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _aborted(group: Group, why: str) -> str:
    return f"The cut-over of {group.name} was aborted: {why}. Writes are back where they were; the mode is unchanged."


def _int(value: Any) -> int:
    return int(value) if _count(value) else 0
