"""Routing by several sticky keys, record ids carrying their bucket, and writes that move only at cut-over: the
proxy app through httpx.ASGITransport, upstreams on httpx.MockTransport (nothing leaves the process)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from strangler_proxy.app import ProxyApp
from strangler_proxy.buckets import bucket_of, in_canary
from strangler_proxy.config import parse_config
from strangler_proxy.model import Mode, Side
from strangler_proxy.record_ids import mint_record_id
from strangler_proxy.state import SqlStore
from strangler_proxy.upstream import HttpxUpstream

pytestmark = pytest.mark.anyio

PERCENT = 50.0

CONFIG = """
upstreams:
  monolith: {url: "http://monolith.internal"}
  payment: {url: "http://payment.internal"}
  inventory: {url: "http://inventory.internal"}
groups:
  payment:
    service: payment
    sticky:
      default: DEFAULT
      keys:
        - {from: json, name: order_id}
        - {from: query, name: order_id}
        - {from: path, name: payment_id, embedded: true}
    routes:
      - {path: "/api/payments/", methods: [GET, POST]}
      - {path: "/api/payments/<uuid:payment_id>/", methods: [GET]}
      - {path: "/api/payments/<uuid:payment_id>/capture/", methods: [POST]}
  inventory:
    service: inventory
    sticky: {from: path, name: sku}
    writes: at-cutover
    shadow: {writes: dry-run}
    routes:
      - {path: "/api/inventory/stock/<str:sku>/", methods: [GET]}
      - {path: "/api/inventory/adjustments/", methods: [POST]}
"""


class Upstreams:
    def __init__(self) -> None:
        self.seen: dict[str, list[httpx.Request]] = {"monolith": [], "payment": [], "inventory": []}

    def handler(self, name: str) -> Callable[[httpx.Request], httpx.Response]:
        def handle(request: httpx.Request) -> httpx.Response:
            self.seen[name].append(request)
            return httpx.Response(200, json={"side": name})

        return handle


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def upstreams() -> Upstreams:
    return Upstreams()


async def _started(default: str, upstreams: Upstreams) -> tuple[ProxyApp, SqlStore]:
    config = parse_config(CONFIG.replace("DEFAULT", default), env={})
    store = SqlStore("sqlite:///:memory:")
    app = ProxyApp(config, store, client_factory=lambda u: HttpxUpstream(
        u, transport=httpx.MockTransport(upstreams.handler(u.name))))  # fmt: skip
    await app.startup()
    return app, store


@pytest.fixture(params=["monolith", "service"])
async def proxy(
    request: pytest.FixtureRequest, upstreams: Upstreams
) -> AsyncIterator[tuple[ProxyApp, httpx.AsyncClient]]:
    app, store = await _started(request.param, upstreams)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.test") as client:
        yield app, client
    await app.shutdown()
    store.close()


def set_mode(app: ProxyApp, group: str, mode: Mode, percent: float = 0.0) -> None:
    app.store.change(group, mode=mode, percent=percent, reason="test", who="tests", automatic=False)
    app._apply(app.store.groups())


def expected(bucket: int) -> str:
    return "payment" if in_canary(bucket, PERCENT) else "monolith"


def orders_on_each_side() -> tuple[str, str]:
    """An order id whose bucket the canary owns, and one it does not."""
    orders = [f"order-{n}" for n in range(100)]
    inside = next(order for order in orders if in_canary(bucket_of(order), PERCENT))
    outside = next(order for order in orders if not in_canary(bucket_of(order), PERCENT))
    return inside, outside


async def served(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["side"])


async def test_the_first_key_present_in_the_request_picks_the_side(proxy: Any) -> None:
    app, client = proxy
    set_mode(app, "payment", Mode.CANARY, PERCENT)
    inside, outside = orders_on_each_side()
    # JSON body first: it wins over a query parameter naming another order.
    assert await served(await client.post(f"/api/payments/?order_id={outside}", json={"order_id": inside})) == "payment"
    assert await served(await client.post(f"/api/payments/?order_id={inside}", json={"order_id": outside})) == (
        "monolith"
    )
    # No order in the body (or no body at all): the query parameter decides.
    assert await served(await client.post(f"/api/payments/?order_id={inside}", json={"amount": 5})) == "payment"
    assert await served(await client.get(f"/api/payments/?order_id={outside}")) == "monolith"
    for n in range(40):
        order = f"order-{n}"
        assert await served(await client.get(f"/api/payments/?order_id={order}")) == expected(bucket_of(order))


async def test_a_record_id_routes_to_the_side_that_created_it(proxy: Any) -> None:
    """Until cut-over a record stays with its creator, even when a larger percent takes its order's bucket in."""
    app, client = proxy
    set_mode(app, "payment", Mode.CANARY, PERCENT)
    for creator, side in ((Side.SERVICE, "payment"), (Side.MONOLITH, "monolith")):
        for bucket in (0, 1, 4999, 5000, 7777, 9999):
            record_id = mint_record_id(bucket, creator=creator)
            assert await served(await client.get(f"/api/payments/{record_id}/")) == side
            assert await served(await client.post(f"/api/payments/{record_id}/capture/", json={})) == side
    inside, _ = orders_on_each_side()
    by_monolith = mint_record_id(bucket_of(inside))  # created before the percent took the order's bucket in
    assert await served(await client.post(f"/api/payments/{by_monolith}/capture/")) == "monolith"
    set_mode(app, "payment", Mode.SERVICE, PERCENT)
    assert await served(await client.post(f"/api/payments/{by_monolith}/capture/")) == "payment", "cut over: all move"


async def test_a_legacy_id_carries_no_bucket_and_goes_to_the_groups_default_side(proxy: Any) -> None:
    app, client = proxy
    set_mode(app, "payment", Mode.CANARY, PERCENT)
    default = app.config.groups["payment"].sticky.default
    legacy = [uuid.uuid4() for _ in range(20)]
    sides = {await served(await client.post(f"/api/payments/{record_id}/capture/")) for record_id in legacy}
    assert sides == {"payment" if default == "service" else "monolith"}
    # Absent means absent: a key after it in the list is still tried (here the JSON order, which comes first anyway).
    inside, outside = orders_on_each_side()
    assert await served(await client.post(f"/api/payments/{legacy[0]}/capture/", json={"order_id": inside})) == (
        "payment"
    )
    assert await served(await client.post(f"/api/payments/{legacy[0]}/capture/", json={"order_id": outside})) == (
        "monolith"
    )


async def test_at_cutover_writes_stay_on_the_monolith_until_service_mode(proxy: Any, upstreams: Upstreams) -> None:
    app, client = proxy
    set_mode(app, "inventory", Mode.CANARY, 100)
    assert await served(await client.get("/api/inventory/stock/MUG/")) == "inventory"  # reads follow the canary
    assert await served(await client.post("/api/inventory/adjustments/", json={"sku": "MUG"})) == "monolith"
    set_mode(app, "inventory", Mode.CANARY, PERCENT)
    skus = [f"SKU-{n}" for n in range(30)]
    for sku in skus:
        reads = "inventory" if in_canary(bucket_of(sku), PERCENT) else "monolith"
        assert await served(await client.get(f"/api/inventory/stock/{sku}/")) == reads
    assert [r.method for r in upstreams.seen["inventory"]] == ["GET"] * (1 + sum(
        in_canary(bucket_of(sku), PERCENT) for sku in skus
    ))  # fmt: skip

    set_mode(app, "inventory", Mode.SERVICE)
    assert await served(await client.post("/api/inventory/adjustments/", json={"sku": "MUG"})) == "inventory"
    assert [r.method for r in upstreams.seen["inventory"]][-1] == "POST"


async def test_at_cutover_writes_are_still_shadowed_as_the_shadow_policy_says(proxy: Any, upstreams: Upstreams) -> None:
    app, client = proxy
    set_mode(app, "inventory", Mode.SHADOW)
    assert await served(await client.post("/api/inventory/adjustments/", json={"sku": "MUG"})) == "monolith"
    for _ in range(50):
        if upstreams.seen["inventory"]:
            break
        await asyncio.sleep(0.01)
    (copy,) = upstreams.seen["inventory"]
    assert (copy.method, copy.headers["x-strangler-shadow"]) == ("POST", "1")  # shadow.writes: dry-run
