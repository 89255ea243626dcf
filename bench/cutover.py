"""Orders through the proxy before, during and after each capability's move, and the cut-over write pause.

::

    .venv/bin/python bench/cutover.py                       # 10 s per phase, 4 customers
    .venv/bin/python bench/cutover.py --seconds 20 --customers 8

The whole local stack runs as real processes on loopback (``tests/e2e/shop_stack.py``: the monolith under
gunicorn with its relay and worker, the three services with theirs, the strangler proxy in front), on SQLite
files — the local defaults of ``make run`` — and Redis as the broker (127.0.0.1:6379, queues under a prefix of the
run's own). Customers place orders through the proxy as fast as it answers (``tests/e2e/shop_traffic.py``: one
to three lines each, some cancelled at once) while staff dispatch every other order's shipments.

Capabilities move one after the other, inventory, payment, shipment. For each, three phases of ``--seconds``:
``before`` (the group on the monolith, after a backfill), ``canary 50%`` and ``after`` (cut over). A row gives
the orders placed per second in the phase and the p50/p99 latency of ``POST /api/orders/`` (the checkout, which
reaches the capability in process or over HTTP depending on ownership), plus the write pause the cut-over barrier
reported (``PATCH /routes/<group> {"mode": "service"}`` → ``cutover.pause_ms``). Every process is stopped and the
temporary directory removed at the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import cpu_model, positive_float, positive_int  # noqa: E402
from tests.e2e.shop_stack import ShopStack  # noqa: E402
from tests.e2e.shop_traffic import Sample, Traffic  # noqa: E402

CAPABILITIES = ("inventory", "payment", "shipment")


@dataclass
class Row:
    capability: str
    phase: str
    orders_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    pause_ms: int | None = None
    fence_ms: int | None = None
    catch_up_ms: int | None = None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--seconds", type=positive_float, default=10.0, help="length of each phase")
    parser.add_argument("--customers", type=positive_int, default=4, help="customer threads placing orders")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0", help="Redis URL of the broker")
    return parser.parse_args(argv)


def _quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _phase(capability: str, phase: str, samples: list[Sample], started: float, ended: float) -> Row:
    orders = [s for s in samples if s.what == "order" and started <= s.at < ended]
    placed = [s for s in orders if s.status == 201]
    latencies = [s.latency * 1000 for s in orders]
    errors = sum(1 for s in orders if s.status >= 500)
    return Row(capability, phase, len(placed) / (ended - started), _quantile(latencies, 0.5),
               _quantile(latencies, 0.99), errors)  # fmt: skip


def run(args: argparse.Namespace, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    with ShopStack.start(workdir, broker_url=args.broker) as stack:
        customers = tuple(("alice", "bob")[n % 2] for n in range(args.customers))
        for capability in CAPABILITIES:
            stack.backfill(capability)
            traffic = Traffic(stack.urls["proxy"], stack.tokens, customers=customers)
            traffic.start()
            try:
                marks = [time.monotonic()]
                time.sleep(args.seconds)
                marks.append(time.monotonic())
                stack.flip(capability, mode="canary", percent=50, reason="bench: canary")
                time.sleep(args.seconds)
                marks.append(time.monotonic())
                cutover = stack.flip(capability, mode="service", reason="bench: cut over")
                marks.append(time.monotonic())
                time.sleep(args.seconds)
                marks.append(time.monotonic())
            finally:
                traffic.stop()
            rows.append(_phase(capability, "before", traffic.samples, marks[0], marks[1]))
            rows.append(_phase(capability, "canary 50%", traffic.samples, marks[1], marks[2]))
            after = _phase(capability, "after", traffic.samples, marks[3], marks[4])
            after.pause_ms = int(cutover["cutover"]["pause_ms"])
            after.fence_ms = int(cutover["cutover"]["fence_ms"])
            after.catch_up_ms = int(cutover["cutover"]["catch_up_ms"])
            rows.append(after)
            if traffic.failures:
                print(f"{capability}: {len(traffic.failures)} unexpected answers, first: {traffic.failures[0]}")
            settled = time.monotonic()
            while (code := stack.reconcile(capability)[0]) != 0 and time.monotonic() - settled < 120:
                time.sleep(1)
            print(f"{capability}: moved; reconcile exit {code} after {time.monotonic() - settled:.1f} s of drain",
                  file=sys.stderr)  # fmt: skip
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| capability | phase | orders/s | p50 ms | p99 ms | 5xx | write pause (fence + catch-up) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        pause = f"{r.pause_ms} ms ({r.fence_ms} + {r.catch_up_ms})" if r.pause_ms is not None else ""
        lines.append(
            f"| {r.capability} | {r.phase} | {r.orders_per_s:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} "
            f"| {pause} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError:
        print("bench/cutover.py: Redis is not reachable on 127.0.0.1:6379", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-cutover-") as tmp:
        rows = run(args, Path(tmp))
    print(
        f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {cpu_model()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.customers} customers, {args.seconds:g} s per phase; SQLite, Redis\n"
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
