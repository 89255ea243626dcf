"""Parallel checkouts against real row locks: never oversell, never deadlock (PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections

from monolith.inventory.errors import InsufficientStock
from monolith.inventory.models import Stock
from monolith.orders.models import Order
from monolith.orders.services import order_place
from monolith.payments.models import Payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(calls: list[Callable[[], Any]]) -> Counter[str]:
    """Run every call at once on its own connection; count outcomes by exception name (or 'ok')."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> str:
        barrier.wait()
        try:
            call()
            return "ok"
        except InsufficientStock:
            return "insufficient_stock"
        except Exception as exc:  # anything else (a deadlock, a lock timeout) is what this test hunts
            return f"{type(exc).__name__}: {exc}"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(run, calls))


def totals(sku: str) -> tuple[int, int]:
    rows = Stock.objects.filter(sku=sku)
    return sum(r.on_hand for r in rows), sum(r.reserved for r in rows)


def test_competing_checkouts_sell_exactly_the_last_units(shop: Any) -> None:
    # CAP: 3 units, all at B. 24 customers try to buy one each.
    outcomes = run_together(
        [lambda i=i: order_place(customer_id=i, lines=[("CAP", 1)], card_token="tok_visa") for i in range(24)]
    )

    assert outcomes == Counter({"ok": 3, "insufficient_stock": 21})
    assert totals("CAP") == (3, 3)
    assert Order.objects.filter(status="confirmed").count() == 3
    assert Payment.objects.count() == 3


def test_split_stock_across_warehouses_is_never_oversold(shop: Any) -> None:
    # MUG: 5 at A + 5 at B. 16 customers each want 2 → exactly 5 orders fit.
    outcomes = run_together(
        [lambda i=i: order_place(customer_id=i, lines=[("MUG", 2)], card_token="tok_visa") for i in range(16)]
    )

    assert outcomes == Counter({"ok": 5, "insufficient_stock": 11})
    assert totals("MUG") == (10, 10)
    assert all(r.reserved <= r.on_hand for r in Stock.objects.all())


def test_a_checkout_holding_its_stock_locks_blocks_neither_warehouses_nor_other_skus(shop: Any) -> None:
    from django.db import DatabaseError, transaction

    from monolith.inventory.locks import stock_lock_for_skus
    from monolith.inventory.models import Warehouse

    holding, release = threading.Event(), threading.Event()

    def first_checkout() -> None:
        try:
            with transaction.atomic():
                stock_lock_for_skus(skus=["MUG"])
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_checkout)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():  # NOWAIT: fails at once if the first checkout holds these rows
            # list(): count() would drop FOR UPDATE and prove nothing.
            assert len(list(Warehouse.objects.select_for_update(nowait=True))) == 2
            assert len(list(Stock.objects.select_for_update(nowait=True).filter(sku="TEE"))) == 2
        with pytest.raises(DatabaseError), transaction.atomic():
            list(Stock.objects.select_for_update(nowait=True).filter(sku="MUG"))  # the held rows are held
    finally:
        release.set()
        thread.join()


def test_orders_locking_skus_in_opposite_orders_do_not_deadlock(shop: Any) -> None:
    # Half ask for (MUG, TEE), half for (TEE, MUG): row locks in pk order keep them from deadlocking.
    def buy(i: int) -> Callable[[], Any]:
        lines = [("MUG", 1), ("TEE", 1)] if i % 2 else [("TEE", 1), ("MUG", 1)]
        return lambda: order_place(customer_id=i, lines=lines, card_token="tok_visa")

    outcomes = run_together([buy(i) for i in range(20)])

    assert set(outcomes) <= {"ok", "insufficient_stock"}, outcomes
    assert outcomes["ok"] == 10  # MUG (10 units) runs out first; TEE has 12
    assert totals("MUG") == (10, 10)
    assert totals("TEE") == (12, 10)
