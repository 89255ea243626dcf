"""The client connection's transport sends each event-loop turn's writes as one write."""

from __future__ import annotations

import asyncio

import pytest

from strangler_proxy.coalesce import CoalescingTransport

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str) -> str:
        return f"extra:{name}"


async def test_head_and_body_written_in_one_turn_leave_as_one_write() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"ok")
    assert inner.writes == []
    await asyncio.sleep(0)
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    transport.write(b"next")  # a later turn: a write of its own
    await asyncio.sleep(0)
    assert inner.writes[1:] == [b"next"]


async def test_close_sends_what_was_gathered_first_and_the_rest_is_the_transports() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    transport.close()
    assert inner.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n"] and inner.closing
    transport.write(b"late")  # the connection is closing: nothing more goes out
    await asyncio.sleep(0)
    assert inner.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n"]
    assert transport.is_closing() and transport.get_extra_info("peername") == "extra:peername"
