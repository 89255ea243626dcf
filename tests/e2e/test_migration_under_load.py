"""Each capability moves from the monolith to its service while orders flow through the proxy without pause.

The whole local stack runs as real processes (tests/e2e/shop_stack.py) on Redis. Per capability, in the order a
team would do it (inventory, payment, shipment): backfill under live writes, then shadow → canary 10% → 50% →
service (the cut-over barrier), with customers ordering and cancelling and staff dispatching all along. Afterwards
both sides reconcile with zero differences, and every order placed during the run has exactly one reservation,
one charge and one shipment per warehouse, in the state its history implies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import wait_for
from tests.e2e.shop_stack import ShopStack
from tests.e2e.shop_traffic import Traffic
from tests.services import require

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

HOT_SKU, HOT_PER_WAREHOUSE = "HOODIE-GREY-L", 4  # 12 units in all, far fewer than the orders asking for one
ORDERS_PER_STAGE = 25


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopStack]:
    require("Redis", "127.0.0.1", 6379)
    with ShopStack.start(Path(tmp_path_factory.mktemp("stack")), broker_url="redis://127.0.0.1:6379/0") as stack:
        yield stack


@pytest.fixture(scope="module")
def history() -> dict[str, Traffic]:
    """Every capability's traffic, so later checks cover the orders of earlier moves too."""
    return {}


def _export(stack: ShopStack, path: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    after = None
    headers = {"Authorization": f"Bearer {stack.tokens['staff']}"}
    while True:
        params = {"limit": "2000", **({"after": after} if after else {})}
        page = httpx.get(f"{stack.urls['monolith']}/api/export/{path}/", params=params, headers=headers, timeout=30)
        page.raise_for_status()
        records += page.json()["results"]
        after = page.json()["next"]
        if after is None:
            return records


def _order_status(stack: ShopStack, order: Any) -> str:
    headers = {"Authorization": f"Bearer {stack.tokens[order.customer]}"}
    response = httpx.get(f"{stack.urls['monolith']}/api/orders/{order.order_id}/", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def _move(stack: ShopStack, name: str, traffic: Traffic) -> dict[str, Any]:
    """Backfill, shadow, canary 10% and 50%, cut over, with ``traffic`` running throughout."""

    def more_orders(n: int) -> None:
        target = len(traffic.placed) + traffic.sold_out + n
        wait_for(
            f"{n} more orders",
            lambda: len(traffic.placed) + traffic.sold_out >= target or bool(traffic.failures),
            deadline_s=120,
            progress=lambda: f"{len(traffic.placed)} placed, failures {traffic.failures[:3]}",
        )

    traffic.start()
    try:
        more_orders(5)
        stack.backfill(name)
        for change in ({"mode": "shadow"}, {"mode": "canary", "percent": 10}, {"mode": "canary", "percent": 50}):
            stack.flip(name, reason=f"e2e: {change}", **change)
            more_orders(ORDERS_PER_STAGE)
        cutover = stack.flip(name, mode="service", reason="e2e: cut over")
        more_orders(ORDERS_PER_STAGE)
    finally:
        traffic.stop()
    assert traffic.failures == [], traffic.failures[:10]
    assert stack.alive() == [], f"processes died: {stack.alive()}"
    return dict(cutover)


def _reconciled(stack: ShopStack, name: str) -> None:
    def equal() -> bool:
        return stack.reconcile(name)[0] == 0

    wait_for(f"{name} to reconcile", equal, deadline_s=120, interval=1.0,
             progress=lambda: str(stack.reconcile(name)[1]))  # fmt: skip


def _check_orders(stack: ShopStack, history: dict[str, Traffic]) -> None:
    """Every order placed so far: one reservation, one payment, one shipment per warehouse, in the right state."""
    orders = {oid: order for traffic in history.values() for oid, order in traffic.placed.items()}

    def settled() -> bool:
        return all(
            _order_status(stack, o) == ("cancelled" if o.cancelled else "fulfilled" if o.dispatched else "confirmed")
            for o in orders.values()
        )

    wait_for("every order to reach its state", settled, deadline_s=120, interval=1.0)
    reservations = Counter(r["reference"] for r in _export(stack, "inventory/reservations"))
    payments = Counter(p["order_id"] for p in _export(stack, "payments"))
    shipments = _export(stack, "shipments")
    by_order = Counter((s["order_id"], s["warehouse"]) for s in shipments)
    statuses = {s["order_id"]: set() for s in shipments}
    for s in shipments:
        statuses[s["order_id"]].add(s["status"])
    pay_status = {p["order_id"]: p["status"] for p in _export(stack, "payments")}
    for oid, order in orders.items():
        assert reservations[oid] == 1, f"order {oid}: {reservations[oid]} reservations"
        assert payments[oid] == 1, f"order {oid}: {payments[oid]} payments"
        assert all(by_order[(oid, w)] == 1 for (o, w) in by_order if o == oid)
        expected = "voided" if order.cancelled else "captured" if order.dispatched else "authorized"
        assert pay_status[oid] == expected, f"order {oid}: payment {pay_status[oid]}, expected {expected}"
        expected_shipments = {"cancelled"} if order.cancelled else {"dispatched"} if order.dispatched else {"created"}
        assert statuses[oid] == expected_shipments, f"order {oid}: shipments {statuses[oid]}"


def _both_sides_created(stack: ShopStack, name: str, event_type: str, traffic: Traffic) -> None:
    """The canary really split the orders: the service created some of the records, the monolith the others."""
    ((by_service,),) = stack.query(name, "SELECT count(*) FROM events_outboxevent WHERE event_type = ?", (event_type,))
    assert 0 < by_service < len(traffic.placed) * 3, f"{name} service created {by_service} records"
    ((by_monolith,),) = stack.query(
        "monolith", "SELECT count(*) FROM events_outboxevent WHERE event_type = ?", (event_type,)
    )
    assert by_monolith > 0


def _stock(stack: ShopStack, sku: str) -> dict[str, int]:
    return dict(httpx.get(f"{stack.urls['proxy']}/api/inventory/stock/{sku}/", timeout=30).json()["total"])


def test_inventory_moves_under_load_without_oversell(stack: ShopStack, history: dict[str, Traffic]) -> None:
    staff = {"Authorization": f"Bearer {stack.tokens['staff']}"}
    for warehouse in ("BER-1", "HAM-1", "MUC-1"):
        body = {"warehouse": warehouse, "sku": HOT_SKU, "delta": HOT_PER_WAREHOUSE - 200, "reason": "e2e: scarce"}
        response = httpx.post(f"{stack.urls['proxy']}/api/inventory/adjustments/", json=body, headers=staff)
        assert response.status_code == 201, response.text
    traffic = history["inventory"] = Traffic(stack.urls["proxy"], stack.tokens, hot_sku=HOT_SKU)

    cutover = _move(stack, "inventory", traffic)

    assert cutover["cutover"]["pause_ms"] > 0 and cutover["cutover"]["position"] > 0
    print(f"\ninventory cut-over: {cutover['cutover']}")
    _reconciled(stack, "inventory")
    _check_orders(stack, history)
    sold = sum(o.lines[HOT_SKU] for o in traffic.placed.values() if not o.cancelled)
    hot = _stock(stack, HOT_SKU)
    assert traffic.sold_out > 0, "the hot SKU sold out during the run"
    assert sold <= 3 * HOT_PER_WAREHOUSE, f"oversold: {sold} units of {3 * HOT_PER_WAREHOUSE}"
    shipped = 3 * HOT_PER_WAREHOUSE - hot["on_hand"]
    assert hot["reserved"] + shipped == sold, (hot, shipped, sold)
    assert hot["available"] >= 0


def test_payment_moves_under_load(stack: ShopStack, history: dict[str, Traffic]) -> None:
    history["payment"] = traffic = Traffic(stack.urls["proxy"], stack.tokens)
    cutover = _move(stack, "payment", traffic)
    assert cutover["cutover"]["pause_ms"] > 0
    _reconciled(stack, "payment")
    _check_orders(stack, history)
    _both_sides_created(stack, "payment", "payment.authorized", traffic)


def test_shipment_moves_under_load(stack: ShopStack, history: dict[str, Traffic]) -> None:
    history["shipment"] = traffic = Traffic(stack.urls["proxy"], stack.tokens)
    cutover = _move(stack, "shipment", traffic)
    assert cutover["cutover"]["pause_ms"] > 0
    _reconciled(stack, "shipment")
    _check_orders(stack, history)
    _both_sides_created(stack, "shipment", "shipment.created", traffic)
    for name in ("inventory", "payment", "shipment"):
        assert stack.reconcile(name)[0] == 0, f"{name} drifted after the later moves"
