"""The seam between the proxy and its upstreams: one pooled keep-alive client per upstream.

::

    client = AiohttpUpstream(upstream)            # or HttpxUpstream: the same interface, for the benchmark
    response = await client.send("GET", "/api/stock/MUG/?x=1", headers, body=None)
    async for chunk in response.chunks: ...       # streamed; always: await response.release()

``send`` raises ``UpstreamUnreachable`` (connect refused, reset, DNS) or ``UpstreamTimeout`` (connect or read
timeout); any status, 5xx included, is a response. The request target is sent exactly as received (no
re-encoding), ``Host`` is the upstream's own, nothing is decompressed and no header is added.

Implementations: ``strangler_proxy.h1client.H1Upstream`` (the default for http upstreams), aiohttp (https, and
``--client aiohttp``) and httpx (``--client httpx``); ``strangler_proxy.clients`` picks one. The default is
chosen by measurement (docs/benchmarks.md, "Proxy").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

from strangler_proxy.hygiene import Headers
from strangler_proxy.model import Upstream

Body = bytes | AsyncIterable[bytes] | None


class UpstreamError(Exception):
    """The upstream gave no response."""


class UpstreamUnreachable(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    pass


@dataclass
class UpstreamResponse:
    status: int
    headers: Headers  # lower-case names
    chunks: AsyncIterator[bytes]
    release: Callable[[], Awaitable[None]]
    # The whole body, when a client had it all by the time the head was parsed (a small response usually arrives
    # in one read): the relay then sends it in one piece. ``chunks`` yields the same bytes; use one or the other.
    whole: bytes | None = None


class UpstreamClient(Protocol):
    upstream: Upstream

    async def send(
        self, method: str, target: str, headers: Headers, body: Body, *, timeout: float | None = None
    ) -> UpstreamResponse: ...

    async def close(self) -> None: ...


def _base(upstream: Upstream) -> str:
    parts = urlsplit(upstream.url)
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class AiohttpUpstream:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self._base = _base(upstream)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.upstream.pool, limit_per_host=self.upstream.pool, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
            timeout=aiohttp.ClientTimeout(connect=self.upstream.connect_timeout, sock_read=self.upstream.read_timeout),
        )  # fmt: skip
        return self._session

    async def send(
        self, method: str, target: str, headers: Headers, body: Body, *, timeout: float | None = None
    ) -> UpstreamResponse:
        session = self._session or self._open()
        request_timeout = aiohttp.ClientTimeout(
            total=timeout, connect=self.upstream.connect_timeout, sock_read=self.upstream.read_timeout
        )
        try:
            response = await session.request(
                method, URL(self._base + target, encoded=True), headers=CIMultiDict(headers), data=body,
                allow_redirects=False, timeout=request_timeout, compress=None,
            )  # fmt: skip
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout(str(exc) or "timed out") from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
            raise UpstreamUnreachable(str(exc) or type(exc).__name__) from exc
        raw = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.raw_headers]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.content.iter_any():
                    yield chunk
            except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
                raise UpstreamTimeout("timed out reading the body") from exc
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                raise UpstreamUnreachable(str(exc) or type(exc).__name__) from exc

        async def release() -> None:
            response.release()

        return UpstreamResponse(response.status, raw, chunks(), release)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpxUpstream:
    """The same seam over httpx, kept for the benchmark that chose aiohttp (and as a fallback)."""

    def __init__(self, upstream: Upstream, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.upstream = upstream
        self._client = httpx.AsyncClient(
            base_url=_base(upstream), follow_redirects=False, transport=transport,
            limits=httpx.Limits(max_connections=upstream.pool, max_keepalive_connections=upstream.pool),
            timeout=httpx.Timeout(connect=upstream.connect_timeout, read=upstream.read_timeout, write=None, pool=None),
        )  # fmt: skip

    async def send(
        self, method: str, target: str, headers: Headers, body: Body, *, timeout: float | None = None
    ) -> UpstreamResponse:
        request = self._client.build_request(method, target, headers=headers, content=body)
        given = {name for name, _ in headers}
        for default in ("accept", "accept-encoding", "user-agent", "connection"):  # httpx's own additions
            if default not in given and default in request.headers:
                del request.headers[default]
        try:
            coro = self._client.send(request, stream=True)
            response = await (asyncio.wait_for(coro, timeout) if timeout else coro)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise UpstreamTimeout(str(exc) or "timed out") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(str(exc) or type(exc).__name__) from exc
        raw = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw]

        async def chunks() -> AsyncIterator[bytes]:
            if response.is_stream_consumed:  # already read by the transport (httpx.MockTransport does)
                yield response.content
                return
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout("timed out reading the body") from exc
            except httpx.TransportError as exc:
                raise UpstreamUnreachable(str(exc) or type(exc).__name__) from exc

        return UpstreamResponse(response.status_code, raw, chunks(), response.aclose)

    async def close(self) -> None:
        await self._client.aclose()
