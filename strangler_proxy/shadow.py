"""Shadow traffic: after the monolith answered, a copy of the request goes to the service, off the request path.

Each group has a bounded queue and two workers. A full queue drops the copy (counted); the copy carries
``X-Strangler-Shadow: 1`` and has the group's timeout for its whole exchange. The service's answer is compared
with the monolith's under the group's noise rules; a mismatch is stored (redacted) with both responses, the
request and a readable diff, and counted toward the group's mismatch rate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from strangler_proxy import metrics
from strangler_proxy.diff import Comparison, Exchange, compare, readable_diff, redact_body_fields, redact_headers
from strangler_proxy.hygiene import Headers
from strangler_proxy.model import Group
from strangler_proxy.upstream import UpstreamClient, UpstreamError

logger = logging.getLogger("strangler_proxy.shadow")
WORKERS_PER_GROUP = 2


@dataclass(frozen=True)
class ShadowJob:
    method: str
    target: str
    headers: Headers  # as sent to the monolith
    body: bytes
    monolith: Exchange
    request_id: str


async def read_bounded(chunks: Any, limit: int) -> tuple[bytes, bool]:
    """The body up to ``limit`` bytes, and whether it was longer (the rest is read and dropped)."""
    parts: list[bytes] = []
    size, truncated = 0, False
    async for chunk in chunks:
        if size + len(chunk) > limit:
            truncated = True
            parts.append(chunk[: max(limit - size, 0)])
            size = limit
            continue
        if not truncated:
            parts.append(chunk)
            size += len(chunk)
    return b"".join(parts), truncated


def _exchange_json(exchange: Exchange) -> dict[str, Any]:
    return {
        "status": exchange.status,
        "headers": [list(pair) for pair in redact_headers(exchange.headers)],
        "body": exchange.body.decode("utf-8", errors="replace"),
        "truncated": exchange.truncated,
    }


def _request_body(body: bytes) -> Any:
    import json

    try:
        return redact_body_fields(json.loads(body))
    except ValueError:
        return body.decode("utf-8", errors="replace")


class ShadowLane:
    """One group's queue and workers."""

    def __init__(
        self,
        group: Group,
        client: UpstreamClient,
        on_compared: Callable[[Group, Comparison], None],
        store_mismatch: Callable[[Group, dict[str, Any]], Awaitable[None]],
    ) -> None:
        self.group, self.client = group, client
        self._on_compared, self._store = on_compared, store_mismatch
        self._queue: asyncio.Queue[ShadowJob] = asyncio.Queue(maxsize=group.shadow.queue)
        self._workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(WORKERS_PER_GROUP)]

    def offer(self, job: ShadowJob) -> bool:
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            metrics.SHADOW.labels(self.group.name, "dropped").inc()
            return False
        metrics.SHADOW_QUEUE.labels(self.group.name).set(self._queue.qsize())
        return True

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            metrics.SHADOW_QUEUE.labels(self.group.name).set(self._queue.qsize())
            try:
                await asyncio.wait_for(self._exchange(job), self.group.shadow.timeout)
            except TimeoutError:
                metrics.SHADOW.labels(self.group.name, "timeout").inc()
            except UpstreamError as exc:
                metrics.SHADOW.labels(self.group.name, "error").inc()
                logger.info("shadow copy of %s %s failed: %s", job.method, job.target, exc)
            except Exception:  # a bug here must never stop the lane
                metrics.SHADOW.labels(self.group.name, "error").inc()
                logger.exception("shadow copy of %s %s", job.method, job.target)

    async def _exchange(self, job: ShadowJob) -> None:
        policy = self.group.shadow
        started = time.perf_counter()
        response = await self.client.send(
            job.method, job.target, [*job.headers, ("x-strangler-shadow", "1")], job.body or None,
            timeout=policy.timeout,
        )  # fmt: skip
        try:
            body, truncated = await read_bounded(response.chunks, policy.max_body_bytes)
        finally:
            await response.release()
        service = Exchange(response.status, tuple(response.headers), body, truncated)
        comparison = compare(job.monolith, service, policy)
        self._on_compared(self.group, comparison)
        if comparison.skipped:
            metrics.SHADOW.labels(self.group.name, "skipped").inc()
            return
        metrics.SHADOW.labels(self.group.name, "match" if comparison.matched else "mismatch").inc()
        if not comparison.matched:
            await self._store(self.group, {
                "request": {
                    "method": job.method, "target": job.target, "request_id": job.request_id,
                    "headers": [list(pair) for pair in redact_headers(tuple(job.headers))],
                    "body": _request_body(job.body),
                },
                "monolith": _exchange_json(job.monolith), "service": _exchange_json(service),
                "summary": comparison.summary, "diff": readable_diff(comparison),
                "service_ms": round((time.perf_counter() - started) * 1000, 2),
            })  # fmt: skip
