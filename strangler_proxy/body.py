"""The request body as the proxy handles it: streamed through when nobody needs it, buffered (bounded) when
shadowing, a JSON sticky key, a possible fallback or a hold needs it, or when it arrives chunked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

__all__ = ["Receive", "RequestBody", "TooLarge"]

Receive = Callable[[], Awaitable[dict[str, Any]]]


class TooLarge(Exception):
    pass


class RequestBody:
    """The request body: buffered (bounded) when someone needs it, otherwise streamed through."""

    def __init__(self, receive: Receive, limit: int, *, streamable: bool, empty: bool = False) -> None:
        # Only a body of declared length is streamed: a chunked one is buffered (bounded) so that the limit
        # can answer 413 and the upstream gets a Content-Length (WSGI servers may ignore chunked bodies).
        self._receive, self._limit, self._streamable = receive, limit, streamable
        # No Content-Length and no Transfer-Encoding: HTTP/1.1 says there is no body (RFC 9112 §6.3).
        self.buffered: bytes | None = b"" if empty else None
        self._consumed = empty

    async def buffer(self) -> bytes:
        if self.buffered is None:
            self.buffered = b"".join([chunk async for chunk in self._stream()])
        return self.buffered

    async def _stream(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError("the request body was already streamed")
        self._consumed = True
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ConnectionResetError("client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._limit:
                raise TooLarge
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def disconnected(self) -> None:
        """Returns when the client goes away; only once the body has been read to its end."""
        while (await self._receive())["type"] != "http.disconnect":
            pass

    async def for_upstream(self) -> bytes | AsyncIterator[bytes] | None:
        if self.buffered is None and not self._streamable:
            await self.buffer()
        if self.buffered is not None:
            return self.buffered or None
        return self._stream()
