"""A lean HTTP/1.1 client for plain-http upstreams: a keep-alive pool of asyncio protocols, httptools parsing.

A proxy's client only forwards: it needs no cookies, redirects, URL building, header validation or
decompression, and those are where a general client spends its time (aiohttp ~100 µs of CPU per request here,
this ~25 µs; docs/benchmarks.md, "Proxy"). It implements the ``strangler_proxy.upstream`` seam.

- Requests are written in one piece (head and a buffered body) or head then the streamed chunks; the caller's
  ``Content-Length`` is kept for a streamed body, and computed for a buffered one.
- A connection goes back to the pool only when the response was read to its end and both sides allow keep-alive;
  idle connections older than ``IDLE_SECONDS`` are dropped (shorter than servers' usual keep-alive timeouts).
- A safe request that fails on a reused connection before any response byte arrived (the server closed it while
  idle) is retried once on a new connection. Unsafe ones are not: they may have been processed.
- HEAD responses close their connection (the parser cannot know they carry no body).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterable, AsyncIterator
from urllib.parse import urlsplit

import httptools

from strangler_proxy.hygiene import Headers
from strangler_proxy.model import Upstream
from strangler_proxy.upstream import Body, UpstreamResponse, UpstreamTimeout, UpstreamUnreachable

IDLE_SECONDS = 2.0
HIGH_WATER = 256 * 1024  # unread body bytes before the socket is paused
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_DROP = frozenset({"content-length", "transfer-encoding", "host", "connection"})


class _Stale(Exception):
    """The connection was closed before any response byte arrived."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.reused = False
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: Headers = []
        self.head: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.complete = False
        self.keep_alive = False
        self.error: Exception | None = None
        self.got_bytes = False
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamUnreachable(f"malformed response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.complete:
            if not self.got_bytes:
                self._fail(_Stale())
            elif self.head.done() and self._delimited_by_close():
                self.complete = True  # a body that ends with the connection (no length, not chunked) is whole
                self._wake()
            else:
                self._fail(UpstreamUnreachable("the upstream closed the connection mid-response"))

    def _delimited_by_close(self) -> bool:
        names = {name for name, _ in self.headers}
        return "content-length" not in names and "transfer-encoding" not in names

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if not self.head.done():
            self.head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and self.transport is not None and not self.paused:
            self.transport.pause_reading()
            self.paused = True
        self._wake()

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()  # only meaningful inside the callback
        self.complete = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        self.error = error
        if not self.head.done():
            self.head.set_exception(error)
            self.head.exception()  # retrieved: no "never retrieved" warning if nobody awaits it
        self._wake()

    async def next_chunk(self, timeout: float) -> bytes | None:
        while not self.chunks:
            if self.complete:
                return None
            if self.error is not None:
                raise self.error
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self.waiter, timeout)
            except TimeoutError:
                raise UpstreamTimeout("timed out reading the body") from None
            finally:
                self.waiter = None
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self.paused and self.buffered < HIGH_WATER // 2 and self.transport is not None:
            self.transport.resume_reading()
            self.paused = False
        return chunk

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and self.error is None and self.transport is not None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None


class H1Upstream:
    def __init__(self, upstream: Upstream) -> None:
        parts = urlsplit(upstream.url)
        if parts.scheme != "http":
            raise ValueError(f"{upstream.name}: the h1 client speaks plain http only")
        self.upstream = upstream
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._host_line = f"host: {parts.netloc}\r\n".encode("latin-1")
        self._idle: collections.deque[_Connection] = collections.deque()
        self._slots = asyncio.Semaphore(upstream.pool)

    async def send(
        self, method: str, target: str, headers: Headers, body: Body, *, timeout: float | None = None
    ) -> UpstreamResponse:
        read_timeout = min(timeout, self.upstream.read_timeout) if timeout else self.upstream.read_timeout
        await self._slots.acquire()
        try:
            try:
                connection = await self._connection()
                return await self._exchange(connection, method, target, headers, body, read_timeout)
            except _Stale:
                if method not in SAFE or not isinstance(body, bytes | None):
                    raise UpstreamUnreachable(
                        "the upstream closed an idle connection as the request went out"
                    ) from None
                connection = await self._connect()
                return await self._exchange(connection, method, target, headers, body, read_timeout)
        except BaseException:
            self._slots.release()
            raise

    async def _exchange(
        self, connection: _Connection, method: str, target: str, headers: Headers, body: Body, read_timeout: float
    ) -> UpstreamResponse:
        transport = connection.transport
        if transport is None:
            raise _Stale()
        lines = [f"{method} {self._prefix}{target} HTTP/1.1\r\n".encode("latin-1"), self._host_line]
        streamed = body is not None and not isinstance(body, bytes)
        for name, value in headers:
            if name not in _DROP or (streamed and name == "content-length"):
                lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        if isinstance(body, bytes):
            lines.append(b"content-length: %d\r\n" % len(body))
        elif body is None and method in ("POST", "PUT", "PATCH"):
            lines.append(b"content-length: 0\r\n")
        lines.append(b"\r\n")
        if isinstance(body, bytes):
            lines.append(body)
        transport.write(b"".join(lines))
        if streamed:
            assert isinstance(body, AsyncIterable)
            try:
                async for chunk in body:
                    if connection.transport is None:
                        break
                    connection.transport.write(chunk)
            except BaseException:  # the client's body failed (too large, went away): this exchange is void
                connection.close()
                raise
        try:
            await asyncio.wait_for(asyncio.shield(connection.head), read_timeout)
        except TimeoutError:
            connection.close()
            raise UpstreamTimeout("timed out waiting for the response") from None
        except _Stale:
            connection.close()
            if connection.reused:
                raise
            raise UpstreamUnreachable("the upstream closed the connection without answering") from None
        except UpstreamUnreachable:
            connection.close()
            raise
        head_only = method == "HEAD"
        if head_only:
            connection.complete = True

        async def chunks() -> AsyncIterator[bytes]:
            if head_only:
                return
            while (chunk := await connection.next_chunk(read_timeout)) is not None:
                yield chunk

        released = False

        async def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            if connection.reusable() and not head_only:
                connection.idle_since = time.monotonic()
                connection.reused = True
                connection._reset()
                self._idle.append(connection)
            else:
                connection.close()
            self._slots.release()

        return UpstreamResponse(connection.status, connection.headers, chunks(), release)

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the least likely to have been closed
            if connection.transport is not None and now - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        return await self._connect()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(_Connection, self._host, self._port), self.upstream.connect_timeout
            )
        except TimeoutError:
            raise UpstreamTimeout("timed out connecting") from None
        except OSError as exc:
            raise UpstreamUnreachable(exc.strerror or type(exc).__name__) from None
        return protocol

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
