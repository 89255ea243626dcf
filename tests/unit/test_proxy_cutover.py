"""The hold and the cut-over write barrier (docs/extraction.md, "Write barrier"): the proxy and its admin API
through httpx.ASGITransport; the upstreams, the monolith's fence and the service's replication status on
httpx.MockTransport (nothing leaves the process)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from strangler_proxy.admin import AdminApp
from strangler_proxy.app import ProxyApp
from strangler_proxy.buckets import bucket_of, in_canary
from strangler_proxy.config import parse_config
from strangler_proxy.cutover import CutoverBarrier
from strangler_proxy.model import Mode
from strangler_proxy.state import SqlStore
from strangler_proxy.upstream import HttpxUpstream

pytestmark = pytest.mark.anyio

TOKEN = "internal-s3cret"
POSITION = "/api/export/payments/position"
FENCE = "/internal/ownership/payments/fence"
UNFENCE = "/internal/ownership/payments/unfence"

CONFIG = """
upstreams:
  monolith: {url: "http://monolith.internal"}
  payment: {url: "http://payment.internal"}
groups:
  payment:
    service: payment
    sticky: {from: json, name: order_id}
    cutover: {capability: payments, timeout: TIMEOUT, hold_timeout: HOLD_TIMEOUT}
    routes:
      - {path: "/api/payments/", methods: [GET, POST]}
max_body_bytes: 100
admin: {tokens: {ops: "admin-token"}}
"""


@dataclass
class World:
    """The upstreams as the proxy reaches them, and the internal endpoints as the barrier reaches them."""

    seen: dict[str, list[httpx.Request]] = field(default_factory=lambda: {"monolith": [], "payment": []})
    internal: list[httpx.Request] = field(default_factory=list)
    position: int = 5  # what the fence answers
    applied: int = 0  # what the replication status answers
    fence_status: int = 200
    source_events: int | None = None  # the monolith's position endpoint (None: it answers 404)
    monolith_moved: bool = False  # the monolith answers writes 421 capability_moved (fenced)
    on_moved: Callable[[], None] | None = None  # called as the monolith answers 421 (the barrier got there first)

    def upstream(self, name: str) -> Callable[[httpx.Request], httpx.Response]:
        def handle(request: httpx.Request) -> httpx.Response:
            self.seen[name].append(request)
            if name == "monolith" and self.monolith_moved and request.method == "POST":
                if self.on_moved is not None:
                    self.on_moved()
                return httpx.Response(421, json={"error": {"code": "capability_moved", "message": "", "details": {}}})
            return httpx.Response(200, json={"side": name, "body": request.content.decode()})

        return handle

    def internal_call(self, request: httpx.Request) -> httpx.Response:
        self.internal.append(request)
        if request.url.host == "monolith.internal" and request.url.path == FENCE:
            return httpx.Response(self.fence_status, json={"position": self.position})
        if request.url.host == "monolith.internal" and request.url.path == UNFENCE:
            return httpx.Response(200, json={"fenced": False})
        if request.url.host == "monolith.internal" and request.url.path == POSITION and self.source_events is not None:
            return httpx.Response(200, json={"capability": "payments", "events": self.source_events})
        if request.url.host == "payment.internal" and request.url.path == "/internal/replication":
            return httpx.Response(200, json={"capability": "payments", "applied": self.applied})
        return httpx.Response(404)

    def calls(self, path: str) -> list[httpx.Request]:
        return [request for request in self.internal if request.url.path == path]


@dataclass
class Stack:
    app: ProxyApp
    store: SqlStore
    proxy: httpx.AsyncClient
    admin: httpx.AsyncClient
    world: World

    def refresh(self) -> None:
        self.app._apply(self.store.groups())

    def set_mode(self, mode: Mode, percent: float = 0.0) -> None:
        self.store.change("payment", mode=mode, percent=percent, reason="setup", who="tests", automatic=False)
        self.refresh()

    async def patch(self, **change: Any) -> httpx.Response:
        return await self.admin.patch("/routes/payment", json=change, headers={"authorization": "Bearer admin-token"})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def stack(request: pytest.FixtureRequest) -> AsyncIterator[Stack]:
    """Marked ``@pytest.mark.parametrize("stack", [{"timeout": …, "hold_timeout": …}], indirect=True)`` to change the
    group's cutover section (default: 1 s for the barrier, 2 s for a parked request)."""
    opened = await _stack({"STRANGLER_INTERNAL_TOKEN": TOKEN}, **getattr(request, "param", {}))
    try:
        yield opened
    finally:
        await _close(opened)


async def _stack(env: dict[str, str], *, timeout: float = 1.0, hold_timeout: float = 2.0) -> Stack:
    world = World()
    text = CONFIG.replace("HOLD_TIMEOUT", str(hold_timeout)).replace("TIMEOUT", str(timeout))
    config = parse_config(text, env={})
    store = SqlStore("sqlite:///:memory:")
    app = ProxyApp(config, store, client_factory=lambda u: HttpxUpstream(
        u, transport=httpx.MockTransport(world.upstream(u.name))))  # fmt: skip
    barrier = CutoverBarrier(app, env=env, transport=httpx.MockTransport(world.internal_call), propagation_seconds=0)
    admin = AdminApp(app, config.admin_tokens, cutover=barrier)
    await app.startup()
    proxy_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.test")
    admin_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=admin), base_url="http://admin.test")
    return Stack(app, store, proxy_client, admin_client, world)


async def _close(stack: Stack) -> None:
    await stack.proxy.aclose()
    await stack.admin.aclose()
    await stack.app.shutdown()
    stack.store.close()


async def until(what: str, condition: Callable[[], bool], deadline_s: float = 2.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def write(stack: Stack, order: str = "o-1") -> asyncio.Task[httpx.Response]:
    return asyncio.create_task(stack.proxy.post("/api/payments/", json={"order_id": order}))


# --- the hold -----------------------------------------------------------------------------------------------------


async def test_a_hold_parks_writes_lets_reads_through_and_releases_writes_to_the_new_side(stack: Stack) -> None:
    released_before = metric("strangler_proxy_held_requests_total", group="payment", outcome="released")
    stack.store.hold("payment", True)
    stack.refresh()
    parked = [write(stack, f"o-{n}") for n in range(3)]
    await asyncio.sleep(0.1)
    assert not any(task.done() for task in parked) and stack.world.seen["monolith"] == []
    read = await stack.proxy.get("/api/payments/")  # safe methods are never held
    assert read.status_code == 200 and read.json()["side"] == "monolith"
    assert metric("strangler_proxy_group_held", group="payment") == 1.0

    stack.store.change("payment", mode=Mode.SERVICE, percent=None, reason="t", who="t", automatic=False, held=False)
    stack.refresh()
    answers = await asyncio.gather(*parked)
    assert [(a.status_code, a.json()["side"]) for a in answers] == [(200, "payment")] * 3
    assert sorted(json.loads(r.content)["order_id"] for r in stack.world.seen["payment"]) == ["o-0", "o-1", "o-2"]
    assert [r.method for r in stack.world.seen["monolith"]] == ["GET"]
    assert metric("strangler_proxy_held_requests_total", group="payment", outcome="released") == released_before + 3
    assert metric("strangler_proxy_group_held", group="payment") == 0.0


async def test_a_hold_that_clears_without_a_change_releases_writes_where_they_went_before(stack: Stack) -> None:
    stack.store.hold("payment", True)
    stack.refresh()
    parked = write(stack)
    await asyncio.sleep(0.05)
    stack.store.hold("payment", False)
    stack.refresh()
    assert (await parked).json()["side"] == "monolith"


@pytest.mark.parametrize("stack", [{"hold_timeout": 0.5}], indirect=True)
async def test_a_write_parked_longer_than_hold_timeout_gets_503_writes_held(stack: Stack) -> None:
    timed_out_before = metric("strangler_proxy_held_requests_total", group="payment", outcome="timed_out")
    stack.store.hold("payment", True)
    stack.refresh()
    started = time.monotonic()
    response = await stack.proxy.post("/api/payments/", json={"order_id": "o-1"})
    assert 0.45 <= time.monotonic() - started < 1.5  # cutover.hold_timeout is 0.5 s
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "writes_held" and response.json()["error"]["message"]
    assert stack.world.seen == {"monolith": [], "payment": []}
    assert metric("strangler_proxy_held_requests_total", group="payment", outcome="timed_out") == timed_out_before + 1


async def test_a_held_write_over_the_body_limit_is_refused_at_once(stack: Stack) -> None:
    stack.store.hold("payment", True)
    stack.refresh()
    response = await asyncio.wait_for(stack.proxy.post("/api/payments/", content=b"x" * 101), 0.4)
    assert response.status_code == 413 and stack.world.seen["monolith"] == []


async def test_a_write_whose_client_leaves_while_parked_is_never_sent(stack: Stack) -> None:
    stack.store.hold("payment", True)
    stack.refresh()
    left = asyncio.Event()
    messages = [{"type": "http.request", "body": b'{"order_id": "o-1"}', "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/payments/", "raw_path": b"/api/payments/",
             "query_string": b"", "headers": [(b"content-length", b"19")], "scheme": "http",
             "client": ("127.0.0.1", 5000)}  # fmt: skip
    request = asyncio.create_task(stack.app(scope, receive, send))
    await asyncio.sleep(0.05)
    left.set()
    await asyncio.wait_for(request, 1)
    stack.store.hold("payment", False)
    stack.refresh()
    await asyncio.sleep(0.05)
    assert sent == [] and stack.world.seen == {"monolith": [], "payment": []}


# --- the barrier --------------------------------------------------------------------------------------------------


async def test_the_barrier_fences_waits_for_the_service_flips_and_sends_parked_writes_to_the_service(
    stack: Stack,
) -> None:
    world = stack.world
    stack.set_mode(Mode.CANARY, 10)
    world.applied = 3
    patch = asyncio.create_task(stack.patch(mode="service", reason="payments move"))
    await until("the fence", lambda: len(world.calls("/internal/replication")) >= 2)
    assert stack.app.holds["payment"].held and not patch.done()
    parked = write(stack)
    await asyncio.sleep(0.1)
    assert not parked.done() and not patch.done(), "the service has not caught up yet"
    world.applied = 5
    response = await patch
    assert response.status_code == 200, response.text
    assert (await parked).json()["side"] == "payment"
    assert world.seen["monolith"] == []

    (fence,) = world.calls(FENCE)
    assert fence.method == "POST" and fence.headers["authorization"] == f"Bearer {TOKEN}"
    polls = world.calls("/internal/replication")
    assert len(polls) >= 3 and all(p.headers["authorization"] == f"Bearer {TOKEN}" for p in polls)
    assert world.calls(UNFENCE) == []

    body = response.json()
    pause_ms = body["cutover"]["pause_ms"]
    assert body["cutover"]["position"] == 5 and 100 <= pause_ms < 2000
    assert (body["group"]["mode"], body["group"]["held"]) == ("service", False)
    assert body["audit"]["reason"] == f"payments move (cut-over: writes held {pause_ms} ms, position 5)"
    assert (body["audit"]["old_mode"], body["audit"]["new_mode"], body["audit"]["who"]) == ("canary", "service", "ops")
    state = stack.store.groups()["payment"]
    assert (state.mode, state.percent, state.held) == (Mode.SERVICE, 10.0, False)
    assert stack.store.audit(group="payment")[0].reason == body["audit"]["reason"]
    assert metric("strangler_proxy_cutover_pause_seconds", group="payment") == pytest.approx(pause_ms / 1000)


@pytest.mark.parametrize("stack", [{"timeout": 5.0}], indirect=True)
async def test_writes_flow_until_the_service_is_nearly_caught_up_then_the_barrier_holds_them(stack: Stack) -> None:
    world = stack.world
    stack.set_mode(Mode.CANARY, 10)
    world.source_events, world.position, world.applied = 500, 500, 0
    patch = asyncio.create_task(stack.patch(mode="service", reason="payments move"))
    await until("the converging polls", lambda: len(world.calls(POSITION)) >= 3)
    assert not stack.app.holds["payment"].held and world.calls(FENCE) == [], "no hold while 500 events behind"
    assert (await write(stack)).json()["side"] in ("payment", "monolith"), "writes are not parked meanwhile"
    world.applied = 491  # 9 behind: within converge_events (10)
    await until("the hold", lambda: stack.app.holds["payment"].held)
    world.applied = 500
    response = await patch
    assert response.status_code == 200, response.text
    assert response.json()["cutover"]["position"] == 500
    assert world.calls(POSITION)[0].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("stack", [{"timeout": 0.5}], indirect=True)
async def test_a_service_that_does_not_catch_up_in_time_aborts_the_cut_over_with_504(stack: Stack) -> None:
    world = stack.world
    stack.set_mode(Mode.CANARY, 10)
    world.applied = 2
    patch = asyncio.create_task(stack.patch(mode="service", reason="payments move"))
    await until("the hold", lambda: stack.app.holds["payment"].held)
    parked = write(stack)
    response = await patch  # cutover.timeout is 0.5 s
    assert response.status_code == 504, response.text
    error = response.json()["error"]
    assert error["code"] == "cutover_timeout" and "applied 2 of 5" in error["message"]
    assert error["details"] == {"position": 5, "applied": 2}
    (unfence,) = world.calls(UNFENCE)
    assert unfence.method == "POST" and unfence.headers["authorization"] == f"Bearer {TOKEN}"

    state = stack.store.groups()["payment"]
    assert (state.mode, state.percent, state.held) == (Mode.CANARY, 10.0, False)
    entry = stack.store.audit(group="payment")[0]
    assert (entry.old_mode, entry.new_mode, entry.who) == ("canary", "canary", "ops")
    assert entry.reason.startswith("payments move (cut-over aborted: the payment service had applied 2 of 5 events")
    assert "monolith unfenced; mode unchanged" in entry.reason
    # The write parked during the barrier goes where the canary sends it.
    assert (await parked).json()["side"] == ("payment" if in_canary(bucket_of("o-1"), 10) else "monolith")


@pytest.mark.parametrize("fence_status", [500, 403])
async def test_a_failing_fence_aborts_with_502_and_unfences(stack: Stack, fence_status: int) -> None:
    stack.world.fence_status = fence_status
    response = await stack.patch(mode="service", reason="payments move")
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "cutover_upstream_failed" and f"answered {fence_status}" in error["message"]
    assert len(stack.world.calls(UNFENCE)) == 1 and stack.world.calls("/internal/replication") == []
    state = stack.store.groups()["payment"]
    assert (state.mode, state.held) == (Mode.MONOLITH, False)
    assert "cut-over aborted" in stack.store.audit(group="payment")[0].reason


async def test_a_second_patch_during_a_cut_over_gets_409(stack: Stack) -> None:
    world = stack.world
    first = asyncio.create_task(stack.patch(mode="service", reason="first"))
    await until("the first cut-over to wait for the service", lambda: bool(world.calls("/internal/replication")))
    second = await stack.patch(mode="service", reason="second")
    ramp = await stack.patch(mode="canary", percent=50, reason="meanwhile")
    assert (second.status_code, second.json()["error"]["code"]) == (409, "cutover_in_progress")
    assert (ramp.status_code, ramp.json()["error"]["code"]) == (409, "cutover_in_progress")
    world.applied = 5
    assert (await first).status_code == 200
    assert len(world.calls(FENCE)) == 1
    assert [e.reason.split(" (")[0] for e in stack.store.audit(group="payment")] == ["first"]


async def test_without_the_internal_token_a_cut_over_is_refused_and_nothing_changes() -> None:
    stack = await _stack({})
    try:
        response = await stack.patch(mode="service", reason="payments move")
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "internal_token_missing" and "STRANGLER_INTERNAL_TOKEN" in error["message"]
        assert stack.world.internal == [] and stack.store.audit(group="payment") == []
        assert (stack.store.groups()["payment"].mode, stack.store.groups()["payment"].held) == (Mode.MONOLITH, False)
    finally:
        await _close(stack)


async def test_service_mode_again_and_the_way_back_need_no_barrier(stack: Stack) -> None:
    stack.set_mode(Mode.SERVICE)
    again = await stack.patch(mode="service", percent=100, reason="already there")
    back = await stack.patch(mode="monolith", reason="roll back")
    assert (again.status_code, back.status_code) == (200, 200)
    assert "cutover" not in again.json() and stack.world.internal == []
    assert stack.store.groups()["payment"].mode == Mode.MONOLITH


async def test_an_interrupted_cut_overs_hold_blocks_changes_until_cleared_by_hand(stack: Stack) -> None:
    stack.store.hold("payment", True)  # as a cut-over whose admin process died would leave it
    stack.refresh()
    refused = await stack.patch(mode="service", reason="try again")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "cutover_in_progress")
    assert "held" in refused.json()["error"]["message"] and stack.world.internal == []

    bad = await stack.patch(held=True, reason="no")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_change")
    cleared = await stack.patch(held=False, reason="the cut-over died with its process")
    assert cleared.status_code == 200 and cleared.json()["group"]["held"] is False
    assert cleared.json()["audit"]["reason"] == "the cut-over died with its process (hold cleared by hand)"
    assert stack.store.groups()["payment"].held is False and not stack.app.holds["payment"].held
    again = await stack.patch(held=False, reason="twice")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_held")


async def test_a_write_the_monolith_refuses_as_moved_waits_for_the_cut_over_then_goes_to_the_service(
    stack: Stack,
) -> None:
    """Routed to the monolith just before the hold, it met the fence: 421 means nothing was done there. The proxy
    parks it until the barrier ends and sends it on to the service (the owner by then), body unchanged."""
    world = stack.world
    stack.set_mode(Mode.CANARY, 0)
    world.monolith_moved = True

    def barrier_holds() -> None:  # the barrier held the group after the request left for the monolith
        stack.store.hold("payment", True)
        stack.refresh()

    world.on_moved = barrier_holds
    parked = write(stack, order="o-9")
    await until("the 421", lambda: len(world.seen["monolith"]) == 1)
    await asyncio.sleep(0.1)
    assert not parked.done() and world.seen["payment"] == [], "parked while the cut-over runs"
    stack.store.change("payment", mode=Mode.SERVICE, percent=0, reason="t", who="t", automatic=False, held=False)
    stack.refresh()
    response = await parked
    assert response.status_code == 200, response.text
    assert response.json()["side"] == "payment" and "o-9" in response.json()["body"], "the same body, re-sent"
    assert len(world.seen["monolith"]) == 1
    assert metric("strangler_proxy_misdirected_writes_total", group="payment") >= 1


async def test_a_write_refused_as_moved_goes_back_to_the_monolith_when_the_cut_over_is_aborted(stack: Stack) -> None:
    world = stack.world
    stack.set_mode(Mode.CANARY, 0)
    world.monolith_moved = True

    def barrier_holds() -> None:
        stack.store.hold("payment", True)
        stack.refresh()
        world.on_moved = None

    world.on_moved = barrier_holds
    parked = write(stack)
    await until("the 421", lambda: len(world.seen["monolith"]) == 1)
    world.monolith_moved = False  # aborted: the monolith is unfenced and the hold cleared, mode unchanged
    stack.store.hold("payment", False)
    stack.refresh()
    response = await parked
    assert response.status_code == 200 and response.json()["side"] == "monolith"
    assert len(world.seen["monolith"]) == 2 and world.seen["payment"] == []
    reads = await stack.proxy.get("/api/payments/")
    assert reads.json()["side"] == "monolith", "reads are never re-sent"
