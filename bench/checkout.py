"""Checkout baseline: orders per second and latency of the legacy monolith's POST /api/orders/.

::

    .venv/bin/python bench/checkout.py                      # 1, 8 and 32 clients, 10 s each
    .venv/bin/python bench/checkout.py --clients 1,4 --duration 5

By default it creates a fresh PostgreSQL database (``strangler_bench_<pid>``) on the local server, migrates it,
seeds the demo shop with very large stock, creates one customer per client, starts the monolith under gunicorn
on a free 127.0.0.1 port and drives it with N closed-loop clients (one thread and one ``httpx.Client`` each, no
think time). Only 201 responses count as orders; anything else is an error. gunicorn is stopped and the database
dropped at the end, also on error or Ctrl-C. The load generator runs on the same machine as the server and the
database, so it takes part of the same cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import cpu_model, fresh_database, positive_float, positive_int  # noqa: E402
from monolith import gunicorn_conf  # noqa: E402
from monolith.core import demo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/"
SEED_STOCK = 10_000_000
REQUEST_TIMEOUT_S = 35.0  # above gunicorn's 30 s worker timeout, so a stuck worker shows up as an error
HEALTH_DEADLINE_S = 60.0
ERROR_SAMPLES = 5
CARD_TOKEN = "tok_visa"
LOG_PROBLEM = re.compile(r"^(?:[\w.]+(?:Error|Exception|Detected|Timeout)\b.*|.*WORKER TIMEOUT.*)$", re.MULTILINE)
SKUS = tuple(sku for sku, _, _ in demo.PRODUCTS)
USERS_SCRIPT = """
import os
from django.contrib.auth import get_user_model
from monolith.api.auth import issue_access_token

User = get_user_model()
for i in range(int(os.environ["BENCH_USERS"])):
    user, new = User.objects.get_or_create(username=f"bench-{i:03d}")
    if new:
        user.set_unusable_password()
        user.save()
    print("TOKEN", issue_access_token(user))
"""


# --- command line ---------------------------------------------------------------------------------------------


def client_levels(raw: str) -> list[int]:
    try:
        levels = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {raw!r}") from None
    if not levels or any(level < 1 for level in levels):
        raise argparse.ArgumentTypeError("client counts must be positive")
    return levels


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the legacy checkout (POST /api/orders/) of the monolith under gunicorn.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--clients", type=client_levels, default="1,8,32", help="concurrent clients per level")
    parser.add_argument("--duration", type=positive_float, default=10.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each level")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=gunicorn_conf.workers,
        help="gunicorn workers (monolith.gunicorn_conf: 2*cores+1)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="use this existing database as is (migrated and seeded, never dropped) instead of a fresh one",
    )
    parser.add_argument(
        "--server-url",
        default=DEFAULT_SERVER_URL,
        help="PostgreSQL server on which the fresh strangler_bench_<pid> database is created and dropped",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for the order mix")
    parser.add_argument("--server-log", type=Path, default=None, help="keep gunicorn's log in this file")
    args = parser.parse_args(argv)
    if args.warmup < 0:
        parser.error("--warmup must be zero or more")
    return args


# --- database -------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    if args.database_url:
        yield args.database_url
    else:
        with fresh_database(args.server_url) as url:
            yield url


def postgres_version(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


# --- the monolith ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def monolith_env(database_url: str, port: int, workers: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MONOLITH_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "ACCESS_LOG": "0",
        "DEBUG": "0",
        "ACCESS_TOKEN_MINUTES": "720",  # tokens must outlive the run
        "PYTHONUNBUFFERED": "1",
    }


def manage(*args: str, env: Mapping[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def prepare_shop(env: Mapping[str, str], users: int) -> list[str]:
    """Migrate, seed with large stock, and return one customer token per client."""
    manage("migrate", "--noinput", "-v0", env=env)
    manage("seed_demo", "--stock", str(SEED_STOCK), env=env)
    out = manage("shell", "-c", USERS_SCRIPT, env={**env, "BENCH_USERS": str(users)})
    tokens = [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("TOKEN ")]
    if len(tokens) != users:
        raise RuntimeError(f"expected {users} tokens, got {len(tokens)}:\n{out}")
    return tokens


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=gunicorn_conf.graceful_timeout + 5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_problems(self) -> Counter[str]:
        """Exceptions and worker timeouts in gunicorn's log, counted by their last line."""
        text = self.log_path.read_text(errors="replace")
        return Counter(match.group(0)[:160] for match in LOG_PROBLEM.finditer(text))


def wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + HEALTH_DEADLINE_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.process.returncode}):\n{server.log_path.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.base_url + "/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"/healthz not healthy after {HEALTH_DEADLINE_S:.0f}s:\n{server.log_path.read_text()}")


@contextlib.contextmanager
def gunicorn(env: Mapping[str, str], port: int, log_path: Path) -> Iterator[Server]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:monolith.gunicorn_conf", "monolith.wsgi"],
            env=dict(env),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches only us, and we stop it cleanly
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        server.stop()


# --- load -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    end: float  # time.perf_counter() when the response arrived
    latency_ms: float
    status: int  # 0: no HTTP response (transport error)
    detail: str = ""  # what went wrong, for errors only


def order_body(rng: random.Random) -> dict[str, Any]:
    skus = rng.sample(SKUS, k=rng.randint(1, 3))
    return {
        "lines": [{"sku": sku, "quantity": rng.randint(1, 2)} for sku in skus],
        "payment": {"card_token": CARD_TOKEN},
    }


def place_order(client: httpx.Client, body: dict[str, Any]) -> Sample:
    start = time.perf_counter()
    try:
        response = client.post("/api/orders/", json=body)
        status, detail = response.status_code, ("" if response.status_code == 201 else response.text[:300])
    except httpx.HTTPError as exc:
        status, detail = 0, f"{type(exc).__name__}: {exc}"
    end = time.perf_counter()
    return Sample(end, (end - start) * 1000, status, detail)


def client_loop(base_url: str, token: str, seed: int, stop: threading.Event, out: list[Sample]) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        while not stop.is_set():
            out.append(place_order(client, order_body(rng)))


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat; (0, 0) where unavailable."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass
class LevelResult:
    clients: int
    seconds: float
    cpu_busy: float | None = None  # share of all cores busy during the window (everything on the machine)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[Sample] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.orders / self.seconds

    def percentile(self, p: int) -> float | None:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else None
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]


def summarise(clients: int, samples: list[Sample], window: tuple[float, float]) -> LevelResult:
    """Keep the responses that arrived inside the measured window."""
    start, end = window
    result = LevelResult(clients=clients, seconds=end - start)
    for sample in samples:
        if not start <= sample.end <= end:
            continue
        if sample.status == 201:
            result.latencies_ms.append(sample.latency_ms)
        else:
            result.errors.append(sample)
    return result


def run_level(base_url: str, tokens: Sequence[str], clients: int, args: argparse.Namespace) -> LevelResult:
    stop = threading.Event()
    per_client: list[list[Sample]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(
            target=client_loop,
            args=(base_url, tokens[i], args.seed * 1000 + i, stop, per_client[i]),
            name=f"client-{i}",
            daemon=True,
        )
        for i in range(clients)
    ]
    try:
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)
        start, cpu_before = time.perf_counter(), cpu_times()
        time.sleep(args.duration)
        end, cpu_after = time.perf_counter(), cpu_times()
    finally:
        stop.set()  # on an interruption the daemon threads are left to die with the process
    deadline = time.monotonic() + REQUEST_TIMEOUT_S + 5
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    result = summarise(clients, [s for samples in per_client for s in samples], (start, end))
    total = cpu_after[1] - cpu_before[1]
    result.cpu_busy = (cpu_after[0] - cpu_before[0]) / total if total > 0 else None
    return result


def smoke_order(base_url: str, token: str) -> None:
    """One order before measuring: fail fast, with the server's answer, when checkout does not work at all."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        sample = place_order(client, order_body(random.Random(0)))
    if sample.status != 201:
        raise RuntimeError(f"smoke order failed with {sample.status}: {sample.detail}")


# --- report ---------------------------------------------------------------------------------------------------


def memory_gib() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "?"


def revision() -> str:
    """The commit measured, and whether the working tree differs from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "monolith"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "?"
    if commit.returncode != 0:
        return "?"
    return commit.stdout.strip() + (" + uncommitted changes in monolith/" if dirty.stdout.strip() else "")


def machine_info(database_url: str, workers: int, loadavg: tuple[float, float, float]) -> list[tuple[str, str]]:
    return [
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("cores", f"{os.cpu_count()} ({cpu_model()})"),
        ("memory", memory_gib()),
        ("load avg", " ".join(f"{x:.2f}" for x in loadavg) + " (1/5/15 min before the run; other work skews results)"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("postgresql", postgres_version(database_url)),
        ("monolith", revision()),
        ("gunicorn", f"{importlib.metadata.version('gunicorn')}, {workers} sync workers (monolith.gunicorn_conf)"),
        ("load", "closed loop, one thread + httpx.Client per client, no think time; shares the same cores"),
    ]


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(results: Sequence[LevelResult]) -> str:
    header = ("clients", "orders", "errors", "orders/s", "p50 ms", "p95 ms", "p99 ms")
    rows = [
        (
            str(r.clients),
            str(r.orders),
            str(len(r.errors)),
            f"{r.rate:.1f}",
            fmt_ms(r.percentile(50)),
            fmt_ms(r.percentile(95)),
            fmt_ms(r.percentile(99)),
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    lines += ["| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    return "\n".join(lines)


def cpu_summary(results: Sequence[LevelResult]) -> str:
    return ", ".join(f"{r.clients} clients {'?' if r.cpu_busy is None else f'{r.cpu_busy:.0%}'}" for r in results)


def error_report(results: Sequence[LevelResult]) -> str:
    errors = Counter((e.status, e.detail) for r in results for e in r.errors)
    if not errors:
        return "errors: none"
    lines = [f"errors ({errors.total()}), most common first:"]
    lines += [
        f"  {n:5d}  [{status or 'no response'}] {detail}" for (status, detail), n in errors.most_common(ERROR_SAMPLES)
    ]
    return "\n".join(lines)


def report(info: Sequence[tuple[str, str]], results: Sequence[LevelResult], args: argparse.Namespace) -> str:
    width = max(len(key) for key, _ in info)
    lines = [f"{key.ljust(width)}  {value}" for key, value in info]
    lines.append(f"{'levels'.ljust(width)}  {args.warmup:g} s warm-up, then {args.duration:g} s measured per level")
    lines += ["", table(results), "", "latency: successful orders (201) only; any other answer is an error"]
    lines.append("cpu busy (all cores, whole machine, measured windows): " + cpu_summary(results))
    lines.append(error_report(results))
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------------------


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def benchmark(args: argparse.Namespace, database_url: str, workdir: Path) -> None:
    loadavg = os.getloadavg()
    port = free_port()
    env = monolith_env(database_url, port, args.workers)
    print("migrating, seeding and creating users ...", file=sys.stderr)
    tokens = prepare_shop(env, max(args.clients))
    with gunicorn(env, port, args.server_log or workdir / "gunicorn.log") as server:
        smoke_order(server.base_url, tokens[0])
        results = []
        for clients in args.clients:
            print(f"{clients} client(s): {args.warmup:g} s warm-up + {args.duration:g} s ...", file=sys.stderr)
            results.append(run_level(server.base_url, tokens, clients, args))
        problems = server.log_problems()
    print(report(machine_info(database_url, args.workers, loadavg), results, args))
    if problems:
        print("\nserver log (whole run, warm-ups included), exceptions and timeouts by count:")
        print("\n".join(f"  {n:5d}  {line}" for line, n in problems.most_common(ERROR_SAMPLES)))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-checkout-") as tmp, database(args) as database_url:
            benchmark(args, database_url, Path(tmp))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (RuntimeError, TimeoutError, psycopg.Error) as exc:
        print(f"bench/checkout.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
