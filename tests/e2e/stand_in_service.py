"""A stand-in for the extracted inventory service, for the proxy's e2e tests: a tiny ASGI app run by uvicorn.

::

    python -m tests.e2e.stand_in_service --port 8101

``GET /api/inventory/stock/<sku>/`` answers a body shaped like the monolith's; any other path answers a small JSON
body naming the stand-in. For the cut-over barrier it also plays either side's internal API: the monolith's
``POST /internal/ownership/<capability>/fence`` (``{"position": position}``) and ``/unfence``, and the service's
``GET /internal/replication`` (``{"applied": applied}``). Tests steer it through ``POST /_control`` with any of::

    {"status": 500, "delay": 2.0, "diff": true, "body": {...}, "position": 5, "applied": 3, "reset": true}

``status`` and ``delay`` apply to every non-control request; ``body`` replaces the stock body (send the monolith's
own to make the two sides agree); ``diff`` adds one to ``$.total.available`` (a seeded difference); ``reset``
restores the defaults and forgets what was seen. Each request's behaviour is fixed when it arrives, so a test may
change it once the stand-in has seen a request without changing that request's answer.

``GET /_seen`` lists every non-control request received, in order, with its headers as sent on the wire.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

STOCK_PREFIX = "/api/inventory/stock/"
MAX_BODY = 1_048_576


@dataclass
class Behaviour:
    status: int = 200
    delay: float = 0.0
    diff: bool = False
    body: dict[str, Any] | None = None
    position: int = 0  # what the fence answers
    applied: int = 0  # what the replication status answers


@dataclass
class StandIn:
    behaviour: Behaviour = field(default_factory=Behaviour)
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        method, path = scope["method"], scope["path"]
        if path == "/_control" and method == "POST":
            status, answer = self._control(body)
        elif path == "/_seen" and method == "GET":
            status, answer = 200, {"requests": self.seen}
        else:
            status, answer = await self._serve(scope, body)
        await _send_json(send, status, answer)

    def _control(self, body: bytes) -> tuple[int, Any]:
        try:
            change = json.loads(body or b"{}")
        except ValueError:
            return 400, {"error": {"code": "malformed_request", "message": "not JSON", "details": {}}}
        if change.pop("reset", False):
            self.behaviour, self.seen = Behaviour(), []
        for name, value in change.items():
            setattr(self.behaviour, name, value)
        return 200, {"behaviour": self.behaviour.__dict__}

    async def _serve(self, scope: Scope, body: bytes) -> tuple[int, Any]:
        behaviour = copy.deepcopy(self.behaviour)  # fixed on arrival
        headers = [[k.decode("latin-1").lower(), v.decode("latin-1")] for k, v in scope["headers"]]
        self.seen.append({
            "method": scope["method"], "path": scope["path"], "query": scope["query_string"].decode("latin-1"),
            "headers": headers, "body": body.decode("utf-8", errors="replace"),
        })  # fmt: skip
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if behaviour.status >= 500:
            message = "The stand-in was told to fail."
            return behaviour.status, {"error": {"code": "stand_in_failure", "message": message, "details": {}}}
        path = scope["path"]
        if path.startswith("/internal/"):
            return _internal(scope["method"], path, self.behaviour)  # the live values, not the ones on arrival
        if scope["method"] in ("GET", "HEAD") and path.startswith(STOCK_PREFIX) and path.endswith("/"):
            return behaviour.status, _stock(path.removeprefix(STOCK_PREFIX).rstrip("/"), behaviour)
        return behaviour.status, {"stand_in": True, "method": scope["method"], "path": path}


def _internal(method: str, path: str, behaviour: Behaviour) -> tuple[int, Any]:
    if method == "POST" and path.startswith("/internal/ownership/") and path.endswith(("/fence", "/unfence")):
        capability, _, action = path.removeprefix("/internal/ownership/").partition("/")
        fenced = action == "fence"
        return 200, {"capability": capability, "fenced": fenced, "position": behaviour.position if fenced else None}
    if method == "GET" and path == "/internal/replication":
        return 200, {"capability": "stand-in", "applied": behaviour.applied, "source_events": None}
    return 404, {"error": {"code": "not_found", "message": "No such internal endpoint.", "details": {}}}


def _stock(sku: str, behaviour: Behaviour) -> dict[str, Any]:
    if behaviour.body is not None:
        stock = copy.deepcopy(behaviour.body)
    else:
        level = {"on_hand": 7, "reserved": 0, "available": 7}
        stock = {"sku": sku, "total": dict(level), "warehouses": [{"warehouse": "STAND-IN-1", **level}]}
    if behaviour.diff:
        stock["total"]["available"] += 1
    return stock


async def _read_body(receive: Receive) -> bytes:
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY:
            parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _send_json(send: Send, status: int, value: Any) -> None:
    body = json.dumps(value, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    except OSError:  # the proxy gave up waiting (a delayed answer) and closed the connection
        pass


app = StandIn()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=1)  # fmt: skip


if __name__ == "__main__":
    main()
