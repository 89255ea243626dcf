"""The lean HTTP/1.1 upstream client against real loopback servers whose every byte the test scripts.

Each server is an ``asyncio.start_server`` running a per-test script over the accepted connection (a ``Peer``),
so framing, timing and closes are exact; it counts the connections it accepts and how many were open at once.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import socket
import struct
import termios
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from strangler_proxy.h1client import HIGH_WATER, H1Upstream
from strangler_proxy.model import Upstream
from strangler_proxy.upstream import Body, UpstreamResponse, UpstreamTimeout, UpstreamUnreachable

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

DEADLINE = 5.0  # seconds anything that must happen is given; a hang fails the test instead of stalling it


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Request:
    method: str
    target: str
    headers: list[tuple[str, str]]  # lower-case names, in order
    body: bytes
    peer: Peer | None = None

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


class Peer:
    """One accepted connection, as its script sees it."""

    def __init__(self, server: ScriptedServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server, self.reader, self.writer = server, reader, writer
        self.client_closed = asyncio.Event()

    async def request(self) -> Request | None:
        """The next request, read by Content-Length or chunked framing; None once the client has closed."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            line, *fields = head[:-4].decode("latin-1").split("\r\n")
            method, target, _ = line.split(" ")
            headers = [(name.strip().lower(), value.strip()) for name, _, value in (f.partition(":") for f in fields)]
            request = Request(method, target, headers, b"", self)
            if request.values("transfer-encoding") == ["chunked"]:
                while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    request.body += (await self.reader.readexactly(size + 2))[:-2]
                while await self.reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields
                    pass
            elif length := request.values("content-length"):
                request.body = await self.reader.readexactly(int(length[0]))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.client_closed.set()
            return None
        self.server.requests.append(request)
        return request

    async def send(self, *parts: bytes) -> None:
        for part in parts:
            self.writer.write(part)
            await self.writer.drain()

    async def until_client_closes(self) -> None:
        while await self.reader.read(65536):
            pass
        self.client_closed.set()

    def close(self) -> None:
        self.writer.close()


Script = Callable[[Peer], Awaitable[None]]
Serve = Callable[[Script], Awaitable["ScriptedServer"]]
ClientFor = Callable[..., H1Upstream]


@dataclass
class ScriptedServer:
    script: Script
    peers: list[Peer] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    open: int = 0
    most_open: int = 0
    port: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _server: asyncio.Server | None = None

    @property
    def accepted(self) -> int:
        return len(self.peers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        peer = Peer(self, reader, writer)
        self.peers.append(peer)
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            await self.script(peer)
        except ConnectionError:
            peer.client_closed.set()
        finally:
            self.open -= 1
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def response(
    status: int = 200, body: bytes = b"", *fields: str, reason: str = "OK", version: str = "HTTP/1.1"
) -> bytes:
    head = f"{version} {status} {reason}\r\n" + "".join(f"{line}\r\n" for line in fields)
    return f"{head}content-length: {len(body)}\r\n\r\n".encode("latin-1") + body


def answering(respond: Callable[[Request], bytes]) -> Script:
    async def script(peer: Peer) -> None:
        while (request := await peer.request()) is not None:
            await peer.send(respond(request))

    return script


def echo(request: Request) -> bytes:
    return response(200, f"{request.method} {request.target}".encode())


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Awaitable[ScriptedServer]]]:
    servers: list[ScriptedServer] = []

    async def start(script: Script) -> ScriptedServer:
        server = ScriptedServer(script)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., H1Upstream]]:
    clients: list[H1Upstream] = []

    def make(url: str, **options: float) -> H1Upstream:
        client = H1Upstream(Upstream(name="upstream", url=url, **options))  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def read_all(response: UpstreamResponse) -> bytes:
    try:
        return b"".join([chunk async for chunk in response.chunks])
    finally:
        await response.release()


async def fetch(client: H1Upstream, method: str = "GET", target: str = "/", body: Body = None) -> tuple[int, bytes]:
    async with asyncio.timeout(DEADLINE):
        response = await client.send(method, target, [], body)
        return response.status, await read_all(response)


async def until(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(DEADLINE):
        while not predicate():
            await asyncio.sleep(0.01)


async def settled(progress: Callable[[], int]) -> None:
    """Until a counter stops moving for a while."""
    last = -1
    async with asyncio.timeout(DEADLINE * 2):
        while progress() != last:
            last = progress()
            await asyncio.sleep(0.2)


def unsent(peer: Peer) -> int:
    """Bytes the server wrote that the client's socket has not acknowledged yet (Linux TIOCOUTQ)."""
    sock = peer.writer.get_extra_info("socket")
    return (
        peer.writer.transport.get_write_buffer_size()
        + struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    )


async def closed_by_client(peer: Peer) -> None:
    async with asyncio.timeout(DEADLINE):
        await peer.client_closed.wait()


# keep-alive


async def test_sequential_requests_share_one_kept_alive_connection(serve: Serve, client_for: ClientFor) -> None:
    server = await serve(answering(echo))
    client = client_for(server.url)
    for n in range(5):
        assert await fetch(client, "GET", f"/n/{n}") == (200, f"GET /n/{n}".encode())
    assert server.accepted == 1


@pytest.mark.parametrize(("version", "fields"), [("HTTP/1.1", ("connection: close",)), ("HTTP/1.0", ())])
async def test_a_response_that_ends_keep_alive_gets_a_new_connection_each_time(
    serve: Serve, client_for: ClientFor, version: str, fields: tuple[str, ...]
) -> None:
    async def script(peer: Peer) -> None:
        if (request := await peer.request()) is not None:
            await peer.send(response(200, request.target.encode(), *fields, version=version))

    server = await serve(script)
    client = client_for(server.url)
    for n in range(3):
        assert await fetch(client, "GET", f"/{n}") == (200, f"/{n}".encode())
    assert server.accepted == 3


async def test_a_response_not_received_to_its_end_closes_its_connection(serve: Serve, client_for: ClientFor) -> None:
    async def script(peer: Peer) -> None:
        if len(server.peers) > 1:
            return await answering(echo)(peer)
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n", b"x" * 10)
        await peer.until_client_closes()

    server = await serve(script)
    client = client_for(server.url)
    partial = await client.send("GET", "/big", [], None)
    assert await anext(partial.chunks) == b"x" * 10
    await partial.release()
    await closed_by_client(server.peers[0])
    assert await fetch(client, "GET", "/next") == (200, b"GET /next")
    assert server.accepted == 2


async def test_a_response_received_whole_but_unread_keeps_its_connection_and_nothing_leaks(
    serve: Serve, client_for: ClientFor
) -> None:
    server = await serve(answering(echo))
    client = client_for(server.url)
    unread = await client.send("GET", "/first", [], None)
    assert await anext(unread.chunks) == b"GET /first"  # all of it, in one piece: framing is complete
    await unread.release()  # before the caller saw the end
    assert await fetch(client, "GET", "/second") == (200, b"GET /second")
    assert server.accepted == 1


# response framing (RFC 9112 §6.3)


async def test_chunked_body_with_extensions_and_trailers(serve: Serve, client_for: ClientFor) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n"
        b"5;name=value\r\nhello\r\n1\r\n \r\n6;x\r\nworld!\r\n0\r\nx-checksum: abc\r\nx-more: 1\r\n\r\n"
    )

    async def script(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(chunked[:70], chunked[70:90], chunked[90:])

    server = await serve(script)
    client = client_for(server.url)
    answer = await client.send("GET", "/", [], None)
    assert await read_all(answer) == b"hello world!"
    assert ("x-checksum", "abc") not in answer.headers  # trailers are not header fields (RFC 9110 §6.5.1)
    assert ("content-type", "text/plain") in answer.headers
    assert await fetch(client) == (200, b"hello world!")
    assert server.accepted == 1


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",  # chunked not final: read until close (§6.3 ¶4)
    ],
)
async def test_body_delimited_by_connection_close(serve: Serve, client_for: ClientFor, head: bytes) -> None:
    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(head, b"first part, ", b"second part")
        peer.close()

    server = await serve(script)
    client = client_for(server.url)
    assert await fetch(client) == (200, b"first part, second part")
    assert await fetch(client) == (200, b"first part, second part")
    assert server.accepted == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b'HTTP/1.1 304 Not Modified\r\netag: "v1"\r\n\r\n',
        b"HTTP/1.1 304 Not Modified\r\ncontent-length: 1234\r\n\r\n",  # the length of what a 200 would carry
    ],
)
async def test_204_and_304_have_no_body_and_keep_the_connection(
    serve: Serve, client_for: ClientFor, answer: bytes
) -> None:
    server = await serve(answering(lambda request: answer))
    client = client_for(server.url)
    status = int(answer.split(b" ")[1])
    assert await fetch(client) == (status, b"")
    assert await fetch(client) == (status, b"")
    assert server.accepted == 1


async def test_head_with_a_content_length_and_no_body_does_not_hang(serve: Serve, client_for: ClientFor) -> None:
    server = await serve(answering(lambda request: b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n"))
    client = client_for(server.url)
    async with asyncio.timeout(DEADLINE):
        head = await client.send("HEAD", "/", [], None)
        assert (head.status, await read_all(head)) == (200, b"")
    assert ("content-length", "1234") in head.headers
    await closed_by_client(server.peers[0])  # not reused: the parser would wait for those 1234 bytes
    await fetch(client, "HEAD")
    assert server.accepted == 2


@pytest.mark.parametrize(
    "interim", [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nlink: </s>\r\n\r\n"]
)
async def test_interim_responses_are_skipped(serve: Serve, client_for: ClientFor, interim: bytes) -> None:
    async def script(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(interim)
            await asyncio.sleep(0.05)  # its own segment, as when an application reads the body it was sent
            await peer.send(response(201, b"made", "x-final: 1"))

    server = await serve(script)
    client = client_for(server.url)
    created = await client.send("POST", "/", [], b"{}")
    assert (created.status, await read_all(created)) == (201, b"made")
    assert [name for name, _ in created.headers] == ["x-final", "content-length"]
    assert await fetch(client, "POST", "/", b"{}") == (201, b"made")
    assert server.accepted == 1


async def test_bytes_past_the_end_of_a_response_are_not_taken_as_the_next_one(
    serve: Serve, client_for: ClientFor
) -> None:
    async def script(peer: Peer) -> None:
        if len(server.peers) == 1 and await peer.request() is not None:
            await peer.send(response(200, b"asked") + response(200, b"smuggled"))  # one too many
        await answering(echo)(peer)

    server = await serve(script)
    client = client_for(server.url)
    assert await fetch(client, "GET", "/one") == (200, b"asked")
    assert await fetch(client, "GET", "/two") == (200, b"GET /two")
    assert server.accepted == 2


async def test_bytes_arriving_on_an_idle_connection_close_it(serve: Serve, client_for: ClientFor) -> None:
    async def script(peer: Peer) -> None:
        if await peer.request() is None:
            return
        if len(server.peers) == 1:
            await peer.send(response(200, b"one"))
            await asyncio.sleep(0.1)  # most likely parked by now; arriving earlier it is excess: closed too
            await peer.send(response(408, b"idle too long", reason="Request Timeout"))  # and keeps it open
            await peer.until_client_closes()
        else:
            await peer.send(response(200, b"two"))
            await answering(echo)(peer)

    server = await serve(script)
    client = client_for(server.url)
    assert await fetch(client) == (200, b"one")
    await closed_by_client(server.peers[0])
    assert await fetch(client) == (200, b"two")


async def test_a_large_body_arrives_whole_through_pause_and_resume(serve: Serve, client_for: ClientFor) -> None:
    payload = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    written = 0

    async def script(peer: Peer) -> None:
        nonlocal written
        await peer.request()
        await peer.send(f"HTTP/1.1 200 OK\r\ncontent-length: {len(payload)}\r\n\r\n".encode())
        for start in range(0, len(payload), 4096):
            await peer.send(payload[start : start + 4096])
            written += 4096
        await answering(echo)(peer)

    server = await serve(script)
    client = client_for(server.url)
    big = await client.send("GET", "/big", [], None)
    await settled(lambda: written)  # the client has paused reading (or the body is all in the socket buffers)
    async with asyncio.timeout(DEADLINE):
        body = await read_all(big)
    assert hashlib.sha256(body).digest() == hashlib.sha256(payload).digest()
    assert await fetch(client, "GET", "/after") == (200, b"GET /after")  # resumed and reused
    assert server.accepted == 1


async def test_a_whole_response_left_unread_after_reading_paused_does_not_stall_the_next(
    serve: Serve, client_for: ClientFor
) -> None:
    body = b"p" * (HIGH_WATER + 1)  # the last byte takes the client over its mark: paused and complete at once

    async def script(peer: Peer) -> None:
        if await peer.request() is not None:
            await peer.send(response(200, body))
            await answering(echo)(peer)

    server = await serve(script)
    client = client_for(server.url, read_timeout=1.0)
    unread = await client.send("GET", "/", [], None)
    await until(lambda: unsent(server.peers[0]) == 0)  # all of it acknowledged by the client's socket
    await asyncio.sleep(0.05)  # and read by the client (same event loop)
    await unread.release()
    assert await fetch(client, "GET", "/next") == (200, b"GET /next")
    assert server.accepted == 1


async def test_an_unread_body_stops_the_upstream_instead_of_filling_memory(serve: Serve, client_for: ClientFor) -> None:
    total, written = 256 * 1024 * 1024, 0

    async def script(peer: Peer) -> None:
        nonlocal written
        await peer.request()
        await peer.send(f"HTTP/1.1 200 OK\r\ncontent-length: {total}\r\n\r\n".encode())
        block = b"z" * 65536
        while written < total:
            await peer.send(block)
            written += len(block)

    server = await serve(script)
    client = client_for(server.url)
    stalled = await client.send("GET", "/", [], None)
    await settled(lambda: written)
    assert written < total // 4  # socket buffers at most, not the whole body
    await stalled.release()
    await closed_by_client(server.peers[0])


# requests


async def test_a_buffered_body_gets_its_own_length_and_the_callers_framing_is_dropped(
    serve: Serve, client_for: ClientFor
) -> None:
    server = await serve(answering(echo))
    client = client_for(server.url)
    stale = [("content-length", "999"), ("transfer-encoding", "chunked"), ("host", "evil.example"),
             ("connection", "close"), ("x-trace", "1")]  # fmt: skip
    for _ in range(2):
        async with asyncio.timeout(DEADLINE):
            await read_all(await client.send("PUT", "/thing", stale, b"hello"))
    seen = server.requests[0]
    assert seen.values("content-length") == ["5"] and seen.body == b"hello"
    assert seen.values("transfer-encoding") == [] and seen.values("connection") == []
    assert seen.values("host") == [f"127.0.0.1:{server.port}"] and seen.values("x-trace") == ["1"]
    assert server.accepted == 1  # the caller's "connection: close" was not the upstream's business


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


async def test_a_streamed_body_is_sent_with_the_callers_length(serve: Serve, client_for: ClientFor) -> None:
    server = await serve(answering(echo))
    client = client_for(server.url)
    parts = [b"a" * 70000, b"", b"b" * 3, b"c" * 100000]
    async with asyncio.timeout(DEADLINE):
        sent = await client.send("POST", "/up", [("content-length", "170003")], stream(*parts))
        await read_all(sent)
    (seen,) = server.requests
    assert seen.values("content-length") == ["170003"] and seen.values("transfer-encoding") == []
    assert seen.body == b"".join(parts)


async def test_a_streamed_body_goes_at_the_upstreams_pace(serve: Serve, client_for: ClientFor) -> None:
    total, pulled = 256 * 1024 * 1024, 0
    reading = asyncio.Event()

    async def upload() -> AsyncIterator[bytes]:
        nonlocal pulled
        block = b"u" * 65536
        while pulled < total:
            pulled += len(block)
            yield block

    async def script(peer: Peer) -> None:
        await reading.wait()  # the body stays unread until the test says so
        await answering(lambda request: response(200, str(len(request.body)).encode()))(peer)

    server = await serve(script)
    client = client_for(server.url)
    sending = asyncio.create_task(client.send("PUT", "/blob", [("content-length", str(total))], upload()))
    await settled(lambda: pulled)
    assert pulled < total // 4  # socket buffers at most: the rest waits in the caller's iterator
    reading.set()
    async with asyncio.timeout(DEADLINE * 4):
        stored = await sending
        assert (stored.status, await read_all(stored)) == (200, str(total).encode())


async def test_an_upstream_that_stops_reading_a_streamed_body_times_out(serve: Serve, client_for: ClientFor) -> None:
    total = 256 * 1024 * 1024

    async def upload() -> AsyncIterator[bytes]:
        block = b"u" * 65536
        for _ in range(total // len(block)):
            yield block

    async def never_reads(peer: Peer) -> None:
        await asyncio.Event().wait()

    server = await serve(never_reads)
    client = client_for(server.url, pool=1, read_timeout=0.3)
    with pytest.raises(UpstreamTimeout):
        async with asyncio.timeout(DEADLINE):
            await client.send("PUT", "/blob", [("content-length", str(total))], upload())
    with pytest.raises(UpstreamTimeout):  # the slot came back: the next exchange gets as far as its own timeout
        await fetch(client)


async def test_a_streamed_body_without_a_length_is_sent_chunked(serve: Serve, client_for: ClientFor) -> None:
    server = await serve(answering(echo))
    client = client_for(server.url)
    assert await fetch(client, "POST", "/up", stream(b"one,", b"", b"two")) == (200, b"POST /up")
    assert await fetch(client, "POST", "/up", stream(b"three")) == (200, b"POST /up")
    assert [request.body for request in server.requests] == [b"one,two", b"three"]
    assert server.requests[0].values("transfer-encoding") == ["chunked"]
    assert server.accepted == 1


@pytest.mark.parametrize("declared", ["2", "10"])
async def test_a_streamed_body_not_matching_its_length_voids_the_exchange(
    serve: Serve, client_for: ClientFor, declared: str
) -> None:
    server = await serve(answering(echo))
    client = client_for(server.url, pool=1)
    with pytest.raises(UpstreamUnreachable):
        async with asyncio.timeout(DEADLINE):
            await client.send("POST", "/up", [("content-length", declared)], stream(b"four", b"more"))
    assert await fetch(client, "GET", "/next") == (200, b"GET /next")
    assert [request.target for request in server.requests] in (["/up", "/next"], ["/next"])
    assert all(request.method in ("POST", "GET") for request in server.requests)  # no request made of body bytes


async def test_a_post_without_body_says_content_length_zero(serve: Serve, client_for: ClientFor) -> None:
    server = await serve(answering(echo))
    client = client_for(server.url)
    await fetch(client, "POST", "/empty")
    await fetch(client, "GET", "/plain")
    assert server.requests[0].values("content-length") == ["0"]
    assert server.requests[1].values("content-length") == []


@pytest.mark.parametrize(
    ("base", "prefix"), [("http://{host}", ""), ("http://{host}/base/", "/base"), ("http://user:pw@{host}/v1", "/v1")]
)
async def test_host_is_the_upstreams_and_the_target_goes_byte_exact_under_the_prefix(
    serve: Serve, client_for: ClientFor, base: str, prefix: str
) -> None:
    server = await serve(answering(echo))
    host = f"127.0.0.1:{server.port}"
    client = client_for(base.format(host=host))
    target = "/a%2Fb/%7Euser/%E2%82%AC%20x;p=1?q=%41%2b+b&empty=&q=2"
    assert await fetch(client, "GET", target) == (200, f"GET {prefix}{target}".encode())
    assert server.requests[0].values("host") == [host]


# failures


async def test_connection_refused_is_unreachable(client_for: ClientFor) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = client_for(f"http://127.0.0.1:{port}", pool=1)
    for _ in range(2):  # and the slot comes back
        with pytest.raises(UpstreamUnreachable):
            await fetch(client)


async def test_a_server_that_never_answers_times_out(serve: Serve, client_for: ClientFor) -> None:
    server = await serve(lambda peer: peer.until_client_closes())
    client = client_for(server.url, read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await fetch(client)
    assert time.monotonic() - started >= 0.25
    await closed_by_client(server.peers[0])


async def test_a_slow_body_times_out_while_reading(serve: Serve, client_for: ClientFor) -> None:
    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome")
        await peer.until_client_closes()

    server = await serve(script)
    client = client_for(server.url, read_timeout=0.3)
    slow = await client.send("GET", "/", [], None)
    assert slow.status == 200
    with pytest.raises(UpstreamTimeout):
        await read_all(slow)
    await closed_by_client(server.peers[0])


@pytest.mark.parametrize(
    "cut",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\nonly part\r\n",
    ],
)
async def test_a_server_closing_mid_body_is_unreachable(serve: Serve, client_for: ClientFor, cut: bytes) -> None:
    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(cut)
        peer.close()

    server = await serve(script)
    client = client_for(server.url)
    with pytest.raises(UpstreamUnreachable):
        await fetch(client)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
    ],
)
async def test_malformed_responses_are_unreachable(serve: Serve, client_for: ClientFor, answer: bytes) -> None:
    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(answer)
        await peer.until_client_closes()

    server = await serve(script)
    client = client_for(server.url)
    with pytest.raises(UpstreamUnreachable):
        await fetch(client)
    await closed_by_client(server.peers[0])


def closing_on_second_request(server_ref: list[ScriptedServer]) -> Script:
    """The first connection answers once, then takes the next request and closes without a word."""

    async def script(peer: Peer) -> None:
        if len(server_ref[0].peers) == 1:
            if await peer.request() is not None:
                await peer.send(response(200, b"first"))
                await peer.request()
            return
        await answering(echo)(peer)

    return script


async def test_a_get_on_a_connection_closed_while_idle_is_retried(serve: Serve, client_for: ClientFor) -> None:
    ref: list[ScriptedServer] = []
    server = await serve(closing_on_second_request(ref))
    ref.append(server)
    client = client_for(server.url)
    assert await fetch(client) == (200, b"first")
    assert await fetch(client, "GET", "/again") == (200, b"GET /again")
    assert server.accepted == 2


async def test_a_post_on_a_connection_closed_while_idle_is_not_resent(serve: Serve, client_for: ClientFor) -> None:
    ref: list[ScriptedServer] = []
    server = await serve(closing_on_second_request(ref))
    ref.append(server)
    client = client_for(server.url)
    assert await fetch(client) == (200, b"first")
    with pytest.raises(UpstreamUnreachable):
        await fetch(client, "POST", "/order", b'{"sku": "MUG"}')
    assert len([request for request in server.requests if request.method == "POST"]) <= 1
    assert server.accepted == 1


# the pool


async def test_the_pool_caps_open_connections(serve: Serve, client_for: ClientFor) -> None:
    async def slow_echo(peer: Peer) -> None:
        while (request := await peer.request()) is not None:
            await asyncio.sleep(0.05)
            await peer.send(echo(request))

    server = await serve(slow_echo)
    client = client_for(server.url, pool=2)
    results = await asyncio.gather(*(fetch(client, "GET", f"/{n}") for n in range(5)))
    assert results == [(200, f"GET /{n}".encode()) for n in range(5)]
    assert server.most_open <= 2 and server.accepted == 2


async def test_every_failure_gives_its_pool_slot_back(serve: Serve, client_for: ClientFor) -> None:
    async def script(peer: Peer) -> None:
        while (request := await peer.request()) is not None:
            match request.target:
                case "/silent":
                    await peer.until_client_closes()
                case "/hang-up":
                    return
                case "/garbage":
                    await peer.send(b"NOT HTTP\r\n\r\n")
                case "/cut":
                    await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab")
                    return
                case "/stall":
                    await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab")
                    await peer.until_client_closes()
                case _:
                    await peer.send(echo(request))

    server = await serve(script)
    client = client_for(server.url, pool=1, read_timeout=0.3)
    for target in ("/silent", "/hang-up", "/garbage", "/cut", "/stall"):
        with pytest.raises((UpstreamTimeout, UpstreamUnreachable)):
            await fetch(client, "GET", target)
        assert await fetch(client, "GET", "/ok") == (200, b"GET /ok"), target
    unread = await client.send("GET", "/stall", [], None)  # released without reading
    await unread.release()
    assert await fetch(client, "GET", "/ok") == (200, b"GET /ok")
    cancelled = asyncio.create_task(client.send("GET", "/silent", [], None))
    await until(lambda: server.requests[-1].target == "/silent")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert server.requests[-1].peer is not None
    await closed_by_client(server.requests[-1].peer)  # a cancelled exchange does not leave its connection open
    assert await fetch(client, "GET", "/ok") == (200, b"GET /ok")
    assert server.open <= 1


async def test_close_closes_idle_connections(serve: Serve, client_for: ClientFor) -> None:
    async def slow_echo(peer: Peer) -> None:
        while (request := await peer.request()) is not None:
            await asyncio.sleep(0.05)
            await peer.send(echo(request))

    server = await serve(slow_echo)
    client = client_for(server.url, pool=2)
    await asyncio.gather(fetch(client), fetch(client))
    assert server.accepted == 2 and server.open == 2
    await client.close()
    for peer in server.peers:
        await closed_by_client(peer)
    await until(lambda: server.open == 0)
