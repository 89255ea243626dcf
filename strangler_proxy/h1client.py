"""A lean HTTP/1.1 client for plain-http upstreams: a keep-alive pool of asyncio protocols, httptools parsing.

A proxy's client only forwards: it needs no cookies, redirects, URL building, header validation or
decompression, and those are where a general client spends its time (aiohttp ~100 µs of CPU per request here,
this ~25 µs; docs/benchmarks.md, "Proxy"). It implements the ``strangler_proxy.upstream`` seam.

- Requests are written in one piece (head and a buffered body) or head then the streamed chunks; the caller's
  ``Content-Length`` is kept for a streamed body (and enforced: a body that does not match it voids the
  exchange), and computed for a buffered one. A streamed body without one is sent chunked.
- Interim (1xx) responses are skipped; a 101 is an error, as nothing here asks to switch protocols.
- A connection goes back to the pool only when the response was received to its end (RFC 9112 §6.3 framing)
  and both sides allow keep-alive; idle connections older than ``IDLE_SECONDS`` are dropped (shorter than
  servers' usual keep-alive timeouts). Bytes beyond a response's end, or arriving while the connection is
  idle, close it: they would be taken as the next request's response.
- A safe request that fails on a reused connection before any response byte arrived (the server closed it while
  idle) is retried once on a new connection. Unsafe ones are not: they may have been processed.
- HEAD responses close their connection (the parser cannot know they carry no body).
- Trailer fields of a chunked response are dropped (RFC 9110 §6.5.1: not merged into the header section).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterable, AsyncIterator
from urllib.parse import urlsplit

import httptools

from strangler_proxy.hygiene import SAFE_METHODS, Headers
from strangler_proxy.model import Upstream
from strangler_proxy.upstream import Body, UpstreamResponse, UpstreamTimeout, UpstreamUnreachable

IDLE_SECONDS = 2.0
HIGH_WATER = 256 * 1024  # unread body bytes before the socket is paused
_DROP = frozenset({"content-length", "transfer-encoding", "host", "connection"})


class _Stale(Exception):
    """The connection was closed before any response byte arrived."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        # Kept: in CPython 3.11 every get_running_loop() is a getpid() system call (its fork check).
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.reused = False
        self.busy = False  # a request is out: response bytes are expected
        self.idle_since = 0.0
        self.write_paused = False
        self.drained: asyncio.Future[None] | None = None
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: Headers = []
        self.head: asyncio.Future[None] = self.loop.create_future()
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.interim = False
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
        if not self.busy:  # unsolicited (a 408 before closing, garbage): this connection is out of step
            self.close()
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._fail(UpstreamUnreachable(f"malformed response: {exc}"))
            self.close()  # the parser is stuck in its error state: nothing more can be read from here

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._drained()
        if self.complete or self.error is not None:
            self._wake()
        elif not self.got_bytes:
            self._fail(_Stale())
        elif self.head.done() and self._delimited_by_close():
            self.complete = True  # a body that ends with the connection is whole (RFC 9112 §6.3, 4 and 8)
            self._wake()
        else:
            self._fail(UpstreamUnreachable("the upstream closed the connection mid-response"))

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._drained()

    def _drained(self) -> None:
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    async def drain(self, timeout: float) -> None:
        while self.write_paused and self.transport is not None:
            self.drained = self.loop.create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self.drained
            except TimeoutError:
                raise UpstreamTimeout("timed out sending the body: the upstream stopped reading") from None
            finally:
                self.drained = None

    def _delimited_by_close(self) -> bool:
        """No Content-Length, and no Transfer-Encoding ending in chunked (the parser read past the rest)."""
        codings = [value for name, value in self.headers if name == "transfer-encoding"]
        if codings:
            return ",".join(codings).rsplit(",", 1)[-1].strip().lower() != "chunked"
        return all(name != "content-length" for name, _ in self.headers)

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self.complete:  # a second message after the one asked for: response splitting, stop right here
            raise UpstreamUnreachable("the upstream sent more than one response")

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head.done():  # after the head only trailer fields come: dropped
            self.headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            self.interim = True
            self.headers = []
            if status == 101:
                self._fail(UpstreamUnreachable("the upstream switched protocols unasked"))
            return
        self.status = status
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
        if self.interim:
            self.interim = False
            return
        self.keep_alive = self.parser.should_keep_alive()  # only meaningful inside the callback
        self.complete = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def head_timed_out(self) -> None:
        if not self.head.done():
            self._fail(UpstreamTimeout("timed out waiting for the response"))

    def _fail(self, error: Exception) -> None:
        if self.error is None:
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
            self.waiter = self.loop.create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self.waiter
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

    def park(self) -> None:
        """Ready for the next request: the response was received whole (read or not)."""
        if self.paused and self.transport is not None:
            self.transport.resume_reading()
        self.busy = False
        self.reused = True
        self.idle_since = time.monotonic()
        self._reset()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None


class H1Upstream:
    """The seam over raw HTTP/1.1 for one http upstream; ``Upstream.pool`` caps its open connections.

    ::

        client = H1Upstream(Upstream(name="inventory", url="http://127.0.0.1:8001", read_timeout=5))
        response = await client.send("GET", "/api/stock/MUG/", [("accept", "application/json")], None)
        try:
            body = b"".join([chunk async for chunk in response.chunks])
        finally:
            await response.release()  # always: gives back the pool slot (and the connection, when reusable)
    """

    def __init__(self, upstream: Upstream) -> None:
        parts = urlsplit(upstream.url)
        if parts.scheme != "http":
            raise ValueError(f"{upstream.name}: the h1 client speaks plain http only")
        self.upstream = upstream
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._host_line = f"host: {parts.netloc.rpartition('@')[2]}\r\n".encode("latin-1")  # no userinfo
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
                if method not in SAFE_METHODS or not isinstance(body, bytes | None):
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
        try:
            transport = connection.transport
            if transport is None:
                raise _Stale()
            connection.busy = True
            streamed = body is not None and not isinstance(body, bytes)
            lines, declared = self._request_head(method, target, headers, streamed)
            if isinstance(body, bytes):
                lines.append(b"content-length: %d\r\n\r\n" % len(body))
                lines.append(body)
            elif body is None:
                lines.append(b"content-length: 0\r\n\r\n" if method in ("POST", "PUT", "PATCH") else b"\r\n")
            else:
                lines.append(b"\r\n" if declared is not None else b"transfer-encoding: chunked\r\n\r\n")
            transport.write(b"".join(lines))
            if streamed:
                assert isinstance(body, AsyncIterable)
                await _write_streamed(connection, body, declared, read_timeout)
            # A timer that fails the head future: cheaper than asyncio.timeout, which also cancels the task.
            timer = connection.loop.call_later(read_timeout, connection.head_timed_out)
            try:
                await connection.head
            finally:
                timer.cancel()
        except _Stale:
            connection.close()
            if connection.reused:
                raise
            raise UpstreamUnreachable("the upstream closed the connection without answering") from None
        except BaseException:  # failed, timed out, or cancelled: the exchange is void and so is the connection
            connection.close()
            raise
        return self._response(connection, method, read_timeout)

    def _request_head(
        self, method: str, target: str, headers: Headers, streamed: bool
    ) -> tuple[list[bytes], int | None]:
        """The request line and header fields, and for a streamed body the caller's Content-Length."""
        lines = [f"{method} {self._prefix}{target} HTTP/1.1\r\n".encode("latin-1"), self._host_line]
        declared: int | None = None
        for name, value in headers:
            if name not in _DROP:
                lines.append(f"{name}: {value}\r\n".encode("latin-1"))
            elif streamed and name == "content-length" and declared is None and value.isascii() and value.isdigit():
                declared = int(value)
        if declared is not None:
            lines.append(b"content-length: %d\r\n" % declared)
        return lines, declared

    def _response(self, connection: _Connection, method: str, read_timeout: float) -> UpstreamResponse:
        head_only = method == "HEAD"
        if head_only:
            connection.complete = True
        released = False

        async def chunks() -> AsyncIterator[bytes]:
            if head_only:
                return
            # not past release: the connection may be carrying someone else's response by then
            while not released and (chunk := await connection.next_chunk(read_timeout)) is not None:
                yield chunk

        async def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            if not head_only and connection.reusable():
                connection.park()
                self._idle.append(connection)
            else:
                connection.close()
            self._slots.release()

        whole = None
        if connection.complete and not head_only and connection.error is None:
            whole = b"".join(connection.chunks) if len(connection.chunks) != 1 else connection.chunks[0]
        return UpstreamResponse(connection.status, connection.headers, chunks(), release, whole)

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
            async with asyncio.timeout(self.upstream.connect_timeout):
                _, protocol = await loop.create_connection(_Connection, self._host, self._port)
        except TimeoutError:
            raise UpstreamTimeout("timed out connecting") from None
        except OSError as exc:
            raise UpstreamUnreachable(exc.strerror or type(exc).__name__) from None
        return protocol

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


async def _write_streamed(
    connection: _Connection, body: AsyncIterable[bytes], declared: int | None, timeout: float
) -> None:
    """Sends the body as it comes, at the socket's pace; chunked when no length was declared."""
    sent = 0
    async for chunk in body:
        transport = connection.transport
        if transport is None:  # the upstream answered early and closed, or went away: the head tells which
            return
        if not chunk:
            continue  # an empty chunk would end a chunked body
        sent += len(chunk)
        if declared is None:
            transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        elif sent > declared:
            raise UpstreamUnreachable("the request body is longer than its Content-Length")
        else:
            transport.write(chunk)
        if connection.write_paused:
            await connection.drain(timeout)
    if declared is None:
        if connection.transport is not None:
            connection.transport.write(b"0\r\n\r\n")
    elif sent != declared:
        raise UpstreamUnreachable("the request body is shorter than its Content-Length")
