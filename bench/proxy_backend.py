"""The trivial backend for bench/proxy.py: one fixed small JSON answer to every request, as fast as Python goes.

::

    .venv/bin/python bench/proxy_backend.py --port 8201                       # {"sku": ...}, ~100 B
    .venv/bin/python bench/proxy_backend.py --port 8202 --body-file answer.json --lifetime 600

A raw ``asyncio.Protocol`` on uvloop with httptools' HTTP/1.1 parser (both already installed with
``uvicorn[standard]``), not an ASGI app under uvicorn: the backend shares the machine's two cores with the load
generator and the proxy being measured, so every microsecond it spends is taken from them. This is uvicorn's own
parser and loop without its ASGI layer (scope dicts, ``send``/``receive`` coroutines per request), which on this
kind of machine costs several times the CPU of the answer itself. It still speaks HTTP properly: keep-alive by
the request's version and ``Connection`` header, pipelining (answers in order), HEAD without a body, 400 on a
malformed request. The answer is built once; the request is never looked at beyond its method.

It exits on SIGTERM or SIGINT, and by itself after ``--lifetime`` seconds, so a benchmark that died cannot leave
it behind for long.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import httptools
import uvloop

DEFAULT_BODY = (
    b'{"sku":"MUG-LOGO","total":{"on_hand":110,"reserved":0,"available":110},"warehouse":"BER-1","source":"bench"}'
)


def response(body: bytes, content_type: str, *, keep_alive: bool, head: bool) -> bytes:
    lines = [b"HTTP/1.1 200 OK", b"content-type: " + content_type.encode("latin-1"),
             b"content-length: " + str(len(body)).encode()]  # fmt: skip
    if not keep_alive:
        lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (b"" if head else body)


BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class FixedAnswer(asyncio.Protocol):
    """One connection: parse requests with httptools, answer each with the same prepared bytes."""

    def __init__(self, answers: dict[tuple[bool, bool], bytes], close: bool = False) -> None:
        self._answers = answers  # (keep_alive, head) -> the full response
        self._always_close = close
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._close(BAD_REQUEST)
        except httptools.HttpParserError:
            self._close(BAD_REQUEST)

    def on_message_complete(self) -> None:  # called by the parser, once per request
        keep_alive = self._parser.should_keep_alive() and not self._always_close
        answer = self._answers[(keep_alive, self._parser.get_method() == b"HEAD")]
        if keep_alive and self._transport is not None:
            self._transport.write(answer)
        else:
            self._close(answer)

    def _close(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)
            self._transport.close()


async def serve(host: str, port: int, body: bytes, content_type: str, lifetime: float, close: bool = False) -> None:
    answers = {
        (keep_alive, head): response(body, content_type, keep_alive=keep_alive, head=head)
        for keep_alive in (True, False)
        for head in (True, False)
    }
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(lambda: FixedAnswer(answers, close), host, port, backlog=1024, reuse_address=True)
    async with server:
        try:
            await asyncio.wait_for(stop.wait(), lifetime)
        except TimeoutError:
            print(f"proxy_backend: --lifetime {lifetime:g} s is over, exiting", file=sys.stderr)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="A fixed JSON answer to every HTTP request (bench/proxy.py's trivial backend).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--body-file", type=Path, default=None, help="answer with this file's bytes (default: ~100 B)")
    parser.add_argument("--content-type", default="application/json", help="the answer's Content-Type")
    parser.add_argument("--close", action="store_true",
                        help="close the connection after each answer, as gunicorn's sync workers do")  # fmt: skip
    parser.add_argument("--lifetime", type=float, default=3600.0, help="exit by itself after this many seconds")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    body = args.body_file.read_bytes() if args.body_file else DEFAULT_BODY
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(args.host, args.port, body, args.content_type, args.lifetime, args.close))
    return 0


if __name__ == "__main__":
    sys.exit(main())
