"""The proxy app driven through httpx.ASGITransport, with httpx.MockTransport upstreams (nothing leaves the process)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from strangler_proxy.app import ProxyApp
from strangler_proxy.buckets import bucket_of
from strangler_proxy.config import parse_config
from strangler_proxy.model import Mode, ProxyConfig
from strangler_proxy.state import SqlStore
from strangler_proxy.upstream import HttpxUpstream

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


CONFIG = """
upstreams:
  monolith: {url: "http://monolith.internal"}
  inventory: {url: "http://inventory.internal", breaker: {failures: 3, open_seconds: 60}}
groups:
  inventory:
    service: inventory
    mode: monolith
    sticky: {from: header, name: X-Customer-Id, default: monolith}
    shadow: {writes: skip, ignore_paths: ["$.served_at"], ignore_headers: [date]}
    rollback: {window_seconds: 60, min_requests: 3, error_rate: 0.5}
    routes:
      - {path: "/api/stock/<str:sku>/", methods: [GET, HEAD, POST]}
max_body_bytes: 1000
admin: {tokens: {ops: "secret"}}
"""


@dataclass
class Upstreams:
    """What each fake upstream saw, and how it answers."""

    seen: dict[str, list[httpx.Request]] = field(default_factory=lambda: {"monolith": [], "inventory": []})
    service_body: dict[str, Any] = field(default_factory=dict)
    service_status: int = 200
    service_error: type[Exception] | None = None

    def handler(self, name: str) -> Callable[[httpx.Request], httpx.Response]:
        def handle(request: httpx.Request) -> httpx.Response:
            self.seen[name].append(request)
            if name == "inventory":
                if self.service_error is not None:
                    raise self.service_error("boom", request=request)
                body = {"side": "service", "sku": "MUG", "served_at": "later", **self.service_body}
                return httpx.Response(self.service_status, json=body, headers={"connection": "x-secret",
                                                                              "x-secret": "1"})  # fmt: skip
            return httpx.Response(200, json={"side": "monolith", "sku": "MUG", "served_at": "now"},
                                  headers={"keep-alive": "timeout=5", "x-kept": "yes"})  # fmt: skip

        return handle


@pytest.fixture
def upstreams() -> Upstreams:
    return Upstreams()


@pytest.fixture
async def proxy(upstreams: Upstreams) -> AsyncIterator[tuple[ProxyApp, httpx.AsyncClient]]:
    config: ProxyConfig = parse_config(CONFIG)
    store = SqlStore("sqlite:///:memory:")
    app = ProxyApp(config, store, client_factory=lambda u: HttpxUpstream(
        u, transport=httpx.MockTransport(upstreams.handler(u.name))))  # fmt: skip
    await app.startup()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.test") as client:
        yield app, client
    await app.shutdown()
    store.close()


async def set_mode(app: ProxyApp, mode: Mode, percent: float = 0.0) -> None:
    app.store.change("inventory", mode=mode, percent=percent, reason="test", who="tests", automatic=False)
    app._apply(app.store.groups())


async def settle(app: ProxyApp) -> None:
    for _ in range(50):  # let shadow workers finish
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    ("mode", "path", "side"),
    [
        (Mode.MONOLITH, "/api/stock/MUG/", "monolith"),
        (Mode.SERVICE, "/api/stock/MUG/", "service"),
        (Mode.SERVICE, "/api/orders/", "monolith"),  # unmatched: the monolith
        (Mode.SERVICE, "/api/stock/MUG/extra/", "monolith"),
        (Mode.SHADOW, "/api/stock/MUG/", "monolith"),
    ],
)
async def test_requests_go_where_the_groups_mode_says(proxy: Any, mode: Mode, path: str, side: str) -> None:
    app, client = proxy
    await set_mode(app, mode)
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json()["side"] == side
    assert response.headers["x-strangler-upstream"] == ("inventory" if side == "service" else "monolith")


async def test_canary_is_sticky_per_key_and_raising_the_percent_only_adds_keys(proxy: Any) -> None:
    app, client = proxy
    keys = [f"customer-{i}" for i in range(200)]

    async def sides() -> dict[str, str]:
        found = {}
        for key in keys:
            found[key] = (await client.get("/api/stock/MUG/", headers={"x-customer-id": key})).json()["side"]
        return found

    await set_mode(app, Mode.CANARY, 20)
    at_20 = await sides()
    assert at_20 == await sides()  # same key, same side
    assert all((side == "service") == (bucket_of(key) < 2000) for key, side in at_20.items())
    await set_mode(app, Mode.CANARY, 60)
    at_60 = await sides()
    assert all(at_60[k] == "service" for k, side in at_20.items() if side == "service")  # nobody moved back
    assert sum(s == "service" for s in at_60.values()) > sum(s == "service" for s in at_20.values())
    assert (await client.get("/api/stock/MUG/")).json()["side"] == "monolith"  # no key: the default


async def test_shadow_copies_safe_requests_marked_and_compares_with_noise_rules(
    proxy: Any, upstreams: Upstreams
) -> None:
    app, client = proxy
    await set_mode(app, Mode.SHADOW)
    assert (await client.get("/api/stock/MUG/")).json()["side"] == "monolith"
    await settle(app)
    (copy,) = upstreams.seen["inventory"]
    assert copy.headers["x-strangler-shadow"] == "1"
    # "side" differs (a seeded difference), served_at is ignored by the group's noise rules.
    (mismatch,) = app.store.mismatches(group="inventory")
    assert "$.side" in mismatch["diff"] and "served_at" not in mismatch["diff"]


async def test_shadow_never_copies_writes_when_the_policy_says_skip(proxy: Any, upstreams: Upstreams) -> None:
    app, client = proxy
    await set_mode(app, Mode.SHADOW)
    assert (await client.post("/api/stock/MUG/", json={"delta": 1})).json()["side"] == "monolith"
    await settle(app)
    assert upstreams.seen["inventory"] == []


async def test_stored_mismatches_redact_credentials(proxy: Any) -> None:
    app, client = proxy
    await set_mode(app, Mode.SHADOW)
    await client.get("/api/stock/MUG/", headers={"authorization": "Bearer abc.def", "cookie": "sessionid=42"})
    await settle(app)
    (mismatch,) = app.store.mismatches(group="inventory")
    stored = json.dumps(mismatch)
    assert "abc.def" not in stored and "sessionid=42" not in stored and "[redacted]" in stored


@pytest.mark.parametrize(
    ("status", "error", "method", "expected_status", "monolith_calls"),
    [
        (500, None, "GET", 200, 1),  # safe: the monolith answers instead
        (None, httpx.ConnectError, "GET", 200, 1),
        (None, httpx.ReadTimeout, "GET", 200, 1),
        (500, None, "POST", 500, 0),  # unsafe: never re-sent, the service's answer stands
        (None, httpx.ConnectError, "POST", 502, 0),
        (None, httpx.ReadTimeout, "POST", 504, 0),
    ],
)
async def test_failures_fall_back_for_safe_methods_only(
    proxy: Any, upstreams: Upstreams, status: int | None, error: type[Exception] | None, method: str,
    expected_status: int, monolith_calls: int,
) -> None:  # fmt: skip
    app, client = proxy
    await set_mode(app, Mode.SERVICE)
    upstreams.service_status, upstreams.service_error = status or 200, error
    response = await client.request(method, "/api/stock/MUG/", json={"delta": 1} if method == "POST" else None)
    assert response.status_code == expected_status
    assert len(upstreams.seen["monolith"]) == monolith_calls
    if expected_status in (502, 504):
        assert response.json()["error"]["code"] in {"upstream_unreachable", "upstream_timeout"}
        assert "inventory.internal" not in response.text  # no internals


async def test_the_breaker_opens_and_then_spares_the_service(proxy: Any, upstreams: Upstreams) -> None:
    app, client = proxy
    await set_mode(app, Mode.SERVICE)
    upstreams.service_error = httpx.ConnectError
    for _ in range(3):
        await client.get("/api/stock/MUG/")
    calls = len(upstreams.seen["inventory"])
    assert (await client.get("/api/stock/MUG/")).json()["side"] == "monolith"
    assert len(upstreams.seen["inventory"]) == calls  # not even tried
    refused = await client.post("/api/stock/MUG/", json={})
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "service_unavailable"


async def test_a_failing_service_is_rolled_back_automatically_and_audited(proxy: Any, upstreams: Upstreams) -> None:
    app, client = proxy
    await set_mode(app, Mode.CANARY, 100)
    upstreams.service_status = 503
    for _ in range(3):
        await client.get("/api/stock/MUG/", headers={"x-customer-id": "c1"})
    for _ in range(50):
        if app.live["inventory"].mode == Mode.MONOLITH:
            break
        await asyncio.sleep(0.05)
    assert app.live["inventory"].mode == Mode.MONOLITH
    entry = app.store.audit(group="inventory")[0]
    assert entry.automatic and entry.who == "automatic" and entry.new_mode == "monolith"
    assert "error rate" in entry.reason


async def test_hop_by_hop_headers_are_removed_both_ways_and_forwarding_headers_added(
    proxy: Any, upstreams: Upstreams
) -> None:
    app, client = proxy
    await set_mode(app, Mode.SERVICE)
    response = await client.get(
        "/api/stock/MUG/",
        headers={"connection": "x-private", "x-private": "1", "keep-alive": "timeout=1", "x-request-id": "abc-123",
                 "x-forwarded-for": "203.0.113.9", "host": "evil.example"},
    )  # fmt: skip
    (sent,) = upstreams.seen["inventory"]
    assert "x-private" not in sent.headers and "keep-alive" not in sent.headers
    assert sent.headers["host"] == "inventory.internal"  # the Host header cannot steer the proxy
    assert sent.headers["x-forwarded-host"] == "evil.example"
    assert sent.headers["x-forwarded-for"].startswith("203.0.113.9, ")
    assert sent.headers["x-request-id"] == "abc-123" == response.headers["x-request-id"]
    assert "x-secret" not in response.headers  # named in the service's Connection header


async def test_a_request_id_is_made_when_missing_and_authorization_passes_untouched(
    proxy: Any, upstreams: Upstreams
) -> None:
    app, client = proxy
    response = await client.get("/api/orders/", headers={"authorization": "Bearer t0k3n", "cookie": "a=1"})
    (sent,) = upstreams.seen["monolith"]
    assert (
        len(response.headers["x-request-id"]) == 32 and sent.headers["x-request-id"] == response.headers["x-request-id"]
    )
    assert sent.headers["authorization"] == "Bearer t0k3n" and sent.headers["cookie"] == "a=1"
    assert response.headers["x-kept"] == "yes" and "keep-alive" not in response.headers


async def test_bodies_over_the_limit_get_413_before_reaching_anyone(proxy: Any, upstreams: Upstreams) -> None:
    app, client = proxy
    response = await client.post("/api/orders/", content=b"x" * 1001)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"
    assert upstreams.seen["monolith"] == []


async def test_absolute_form_targets_cannot_steer_the_proxy(proxy: Any, upstreams: Upstreams) -> None:
    app, _ = proxy
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "http://evil.example/", "raw_path": b"http://evil.example/",
             "query_string": b"", "headers": [], "scheme": "http", "client": ("127.0.0.1", 5000)}  # fmt: skip
    await app(scope, receive, send)
    assert sent[0]["status"] == 400 and upstreams.seen == {"monolith": [], "inventory": []}
