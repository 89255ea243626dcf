"""Customers placing orders and staff shipping them, through the proxy, while a capability moves.

Each customer thread places orders in a loop (and cancels some right away, some later); a staff thread lists the
shipments of confirmed orders and dispatches them, which captures the payment and fulfils the order. Every answer
is recorded with its time and latency, so a test can check every order afterwards and a benchmark can cut the run
into phases::

    traffic = Traffic(proxy_url, tokens, hot_sku="HOODIE-GREY-L")
    traffic.start(); ...; traffic.stop()
    traffic.placed  # {order id: PlacedOrder}
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

PLENTY = ("MUG-LOGO", "TEE-BLACK-M", "CAP-NAVY", "SOCKS-3PACK", "NOTEBOOK-A5", "STICKER-PACK", "BOTTLE-STEEL")


@dataclass
class PlacedOrder:
    order_id: str
    customer: str
    lines: dict[str, int]
    cancelled: bool = False
    dispatched: bool = False


@dataclass
class Sample:
    at: float  # time.monotonic() when the request started
    latency: float  # seconds
    status: int
    what: str


@dataclass
class Traffic:
    proxy_url: str
    tokens: dict[str, str]
    hot_sku: str | None = None  # a SKU with little stock: every order asks for one, so it sells out
    customers: tuple[str, ...] = ("alice", "bob")
    cancel_share: float = 0.1
    pause: float = 0.0  # seconds each customer waits between orders (0: as fast as the stack answers)
    placed: dict[str, PlacedOrder] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # unexpected answers: 5xx, or 4xx other than sold out
    sold_out: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._to_ship: list[str] = []

    def start(self) -> None:
        self._stop.clear()
        for n, customer in enumerate(self.customers):
            self._threads.append(threading.Thread(target=self._customer, args=(customer, n), daemon=True))
        self._threads.append(threading.Thread(target=self._staff, daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads.clear()

    def _call(self, client: httpx.Client, what: str, method: str, path: str, user: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", **kwargs.pop("headers", {})}
        started = time.monotonic()
        try:
            response = client.request(method, self.proxy_url + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            with self._lock:
                self.failures.append(f"{what}: {type(exc).__name__}: {exc}")
            return None
        with self._lock:
            self.samples.append(Sample(started, time.monotonic() - started, response.status_code, what))
        return response

    def _customer(self, customer: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=httpx.Timeout(30.0, connect=2.0)) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                lines = {sku: rng.randint(1, 2) for sku in rng.sample(PLENTY, rng.randint(1, 2))}
                if self.hot_sku:
                    lines[self.hot_sku] = 1
                self._order(client, customer, lines, f"{customer}-{seed}-{n}-{time.time_ns()}", rng)
                if self.pause:
                    self._stop.wait(self.pause)

    def _order(self, client: httpx.Client, customer: str, lines: dict[str, int], key: str, rng: random.Random) -> None:
        body = {"lines": [{"sku": s, "quantity": q} for s, q in lines.items()], "payment": {"card_token": "tok_visa"}}
        response = self._call(client, "order", "POST", "/api/orders/", customer, json=body,
                              headers={"Idempotency-Key": key})  # fmt: skip
        if response is None:
            return
        if response.status_code == 409 and response.json()["error"]["code"] == "insufficient_stock" and self.hot_sku:
            with self._lock:
                self.sold_out += 1
            return
        if response.status_code != 201:
            with self._lock:
                self.failures.append(f"order: {response.status_code} {response.text[:300]}")
            return
        order = PlacedOrder(response.json()["id"], customer, lines)
        with self._lock:
            self.placed[order.order_id] = order
        if rng.random() < self.cancel_share:
            self._cancel(client, order)
        else:
            with self._lock:
                self._to_ship.append(order.order_id)

    def _cancel(self, client: httpx.Client, order: PlacedOrder) -> None:
        response = self._call(client, "cancel", "POST", f"/api/orders/{order.order_id}/cancel/", order.customer)
        if response is not None and response.status_code == 200:
            order.cancelled = True
        elif response is not None:
            with self._lock:
                self.failures.append(f"cancel: {response.status_code} {response.text[:300]}")

    def _staff(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(30.0, connect=2.0)) as client:
            while not self._stop.is_set():
                with self._lock:
                    order_id = self._to_ship.pop(0) if self._to_ship else None
                if order_id is None:
                    self._stop.wait(0.05)
                    continue
                self._ship(client, self.placed[order_id])

    def _ship(self, client: httpx.Client, order: PlacedOrder) -> None:
        listed = self._call(client, "list", "GET", f"/api/shipments/?order_id={order.order_id}", "staff")
        if listed is None or listed.status_code != 200:
            with self._lock:
                self.failures.append(f"list shipments: {listed.status_code if listed else '-'}")
            return
        for shipment in listed.json()["results"]:
            sent = self._call(client, "dispatch", "POST", f"/api/shipments/{shipment['id']}/dispatch/", "staff")
            if sent is None or sent.status_code != 200:
                with self._lock:
                    self.failures.append(
                        f"dispatch: {sent.status_code if sent else '-'} {sent.text[:300] if sent else ''}"
                    )
                return
        order.dispatched = True
