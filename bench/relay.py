"""Event relay: backlog drain rate, commit-to-broker latency, idle CPU, against on_commit + Celery and raw Redis.

::

    .venv/bin/python bench/relay.py                    # 100,000-event backlog, 10 s latency windows
    .venv/bin/python bench/relay.py --events 20000 --latency-seconds 5

It creates a fresh PostgreSQL database (``strangler_bench_<pid>``), migrates it, and uses Redis at 127.0.0.1 with
the queue prefix ``bench-<pid>-``. Relays run as separate processes (``manage.py events_relay``) with a temporary
rules file that routes every event to one queue. Measured:

(a) drain of a backlog bulk-loaded with COPY (rows copied from a real ``events.outbox.publish`` envelope), with 1
    and 2 relays; the relays are started while the benchmark holds a lock on the outbox table, and the clock runs
    from releasing it to no unsent row (so Django start-up is not counted). The queue is read back to check each
    aggregate's order.
(b) commit-to-broker latency at a steady rate: a producer process publishing one event per transaction, a relay
    running continuously (with and without the Redis wake-up), a reader thread BRPOPing the queue. Latency is
    arrival in Redis minus the envelope's ``time``, which ``publish`` sets before commit.
(c) the same for ``transaction.on_commit(lambda: app.send_task(...))``, and its rate over a burst.
(d) the broker's ceiling: pipelined LPUSH of same-sized messages in batches of 1,000.
(e) a relay's CPU over an idle window (/proc/<pid>/stat), with and without wake-up.

Every process is stopped, the database dropped and every Redis key matching ``*bench-<pid>-*`` deleted at the
end, also on error or Ctrl-C. The load generators share the machine's cores with PostgreSQL, Redis and relays.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _relay_support as support  # noqa: E402
from bench._common import cpu_model, fresh_database, positive_float, positive_int  # noqa: E402

ROOT = support.ROOT
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
CONSUMER = "ledger"
CEILING_BYTES = 430  # the calibration figure in DESIGN.md
READY_DEADLINE_S = 60.0
RULES = """rules:
  - name: bench-everything
    pattern: {"detail-type": [{"prefix": ""}]}
    targets: [{queue: ledger}]
"""
TARGETS = {
    "drain": "≥ 25,000 events/s (also with 2 relays, keeping per-aggregate order)",
    "latency": "p99 ≤ 20 ms at 500 events/s",
    "idle": "< 2 % of a core",
}


# --- command line ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the event relay (events_relay) on PostgreSQL + Redis.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--events", type=positive_int, default=100_000, help="backlog size for the drain")
    parser.add_argument("--aggregates", type=positive_int, default=1_000, help="aggregates the backlog spreads over")
    parser.add_argument("--rate", type=positive_float, default=500.0, help="events/s for the latency runs")
    parser.add_argument("--latency-seconds", type=positive_float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each latency run")
    parser.add_argument(
        "--producers", type=positive_int, default=2, help="producer processes sharing --rate (one is CPU-bound near it)"
    )
    parser.add_argument("--burst", type=positive_int, default=5_000, help="on_commit burst size")
    parser.add_argument("--ceiling-messages", type=positive_int, default=100_000, help="raw LPUSH messages")
    parser.add_argument("--idle-seconds", type=positive_float, default=10.0, help="idle CPU window")
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL, help="PostgreSQL server for the fresh database")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis (loopback only)")
    args = parser.parse_args(argv)
    if args.warmup < 0:
        parser.error("--warmup must be zero or more")
    if urlsplit(args.redis_url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("--redis-url must point at 127.0.0.1")
    return args


# --- database and Redis ---------------------------------------------------------------------------------------


def truncate_outbox(conn: psycopg.Connection) -> None:
    conn.execute(
        "TRUNCATE events_outboxevent, events_outboxpending, events_aggregatesequence, events_relayprocess "
        "RESTART IDENTITY"
    )


def fill_outbox(conn: psycopg.Connection, template: Template, events: int) -> float:
    """COPY ``events`` valid rows spread round-robin over ``aggregates``; returns the mean payload size."""
    truncate_outbox(conn)
    now = dt.datetime.now(dt.UTC)
    columns = "event_id, event_type, source, aggregate_type, aggregate_id, sequence, partition, payload, created_at"
    size = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY events_outboxevent ({columns}) FROM STDIN") as copy:
        for i in range(events):
            k = i % len(template.partitions)
            agg, sequence, event_id = support.aggregate_id(k), i // len(template.partitions) + 1, str(uuid.uuid4())
            envelope = {
                **template.envelope,
                "id": event_id,
                "correlationid": event_id,
                "subject": agg,
                "sequence": sequence,
            }
            envelope["data"] = {**template.envelope["data"], "sku": agg}
            payload = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
            size += len(payload)
            partition = template.partitions[k]
            copy.write_row(
                (
                    event_id,
                    support.EVENT_TYPE,
                    template.envelope["source"],
                    support.AGGREGATE_TYPE,
                    agg,
                    sequence,
                    partition,
                    payload,
                    now,
                )
            )
    # What publish() writes beside each row: the row is pending until the relay has sent it.
    conn.execute(
        "INSERT INTO events_outboxpending (id, partition, attempts, last_error) "
        "SELECT id, partition, 0, '' FROM events_outboxevent"
    )
    conn.execute("ANALYZE events_outboxevent")
    conn.execute("ANALYZE events_outboxpending")
    return size / events


def wait_relay_ready(conn: psycopg.Connection, relay: subprocess.Popen[bytes]) -> None:
    support.wait_for(
        lambda: support.scalar(conn, "SELECT count(*) FROM events_relayprocess") > 0, READY_DEADLINE_S, "relay", [relay]
    )


# --- (a) drain ------------------------------------------------------------------------------------------------


@dataclass
class Drain:
    relays: int
    events: int
    seconds: float
    in_queue: int
    violations: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def read_queue(client: redis.Redis, key: str) -> list[support.Frame]:
    """Every frame of a queue, oldest first (LPUSH puts the newest at index 0)."""
    raw: list[bytes] = []
    length = int(client.llen(key))
    for start in range(0, length, 10_000):
        raw.extend(client.lrange(key, start, start + 9_999))
    return [support.parse_relay_frame(frame) for frame in reversed(raw)]


def drain(ctx: Context, relays: int) -> Drain:
    ctx.redis.delete(ctx.queue)
    lock_conn = psycopg.connect(ctx.database_url)
    try:
        lock_conn.execute("LOCK TABLE events_outboxevent, events_outboxpending IN ACCESS EXCLUSIVE MODE")
        procs = [ctx.children.relay(f"r{i + 1}", once=True, wakeup=False, rules=ctx.rules) for i in range(relays)]
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        support.wait_for(
            lambda: support.scalar(ctx.conn, waiting) >= relays, READY_DEADLINE_S, "relays blocked on the lock", procs
        )
        start = time.perf_counter()
        lock_conn.commit()
    finally:
        lock_conn.close()
    unsent = "SELECT count(*) FROM (SELECT 1 FROM events_outboxpending LIMIT 1) AS s"
    # With --once a relay leaves as soon as its own partitions are empty; the others carry on.
    support.wait_for(
        lambda: support.scalar(ctx.conn, unsent) == 0,
        max(60.0, ctx.args.events / 1000),
        "drain",
        procs,
        all_exited=True,
    )
    seconds = time.perf_counter() - start
    for proc in procs:
        proc.wait(timeout=READY_DEADLINE_S)
    frames = read_queue(ctx.redis, ctx.queue)
    ctx.redis.delete(ctx.queue)
    return Drain(relays, ctx.args.events, seconds, len(frames), support.order_violations(frames))


# --- (b), (c) latency -----------------------------------------------------------------------------------------


@dataclass
class Latency:
    label: str
    sent: int
    produce_seconds: float
    samples: list[float]  # ms, measured window only
    machine_busy: float = 0.0  # share of all cores busy while producing (whole machine)
    relay_cpu: float | None = None  # the relay's CPU over the same run, % of one core

    @property
    def rate(self) -> float:
        return self.sent / self.produce_seconds


class Reader(threading.Thread):
    """BRPOP a queue and note when each message arrived; parse later, off the timing path."""

    def __init__(self, url: str, queue: str) -> None:
        super().__init__(name=f"reader-{queue}", daemon=True)
        self.client = redis.Redis.from_url(url)
        self.queue = queue
        self.stop = threading.Event()
        self.received: list[tuple[float, bytes]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            item = self.client.brpop([self.queue], timeout=0.2)
            if item is not None:
                self.received.append((time.time(), item[1]))


def run_producers(ctx: Context, mode: str, queue: str, seconds: float) -> tuple[int, float]:
    """``--producers`` processes at ``rate / producers`` each, in parallel; returns (sent, longest run in s)."""
    count = ctx.args.producers
    rate = str(ctx.args.rate / count)
    procs = []
    for i in range(count):
        args = ["produce", mode, "--rate", rate, "--seconds", str(seconds), "--queue", queue, "--offset", str(i)]
        procs.append(
            ctx.children.start(
                [str(support.SUPPORT), *args, "--broker", ctx.args.redis_url], f"producer-{mode}-{i}.log"
            )
        )
    deadline = time.monotonic() + seconds + 60
    results = []
    for i, proc in enumerate(procs):
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        if proc.returncode != 0:
            raise RuntimeError(
                f"producer {i} failed ({proc.returncode}):\n{ctx.children.log(f'producer-{mode}-{i}.log', 3000)}"
            )
        results.append(parse_sent(ctx.children.log(f"producer-{mode}-{i}.log")))
    return sum(sent for sent, _ in results), max(elapsed for _, elapsed in results)


def measure_latency(ctx: Context, label: str, mode: str, queue: str) -> Latency:
    reader = Reader(ctx.args.redis_url, queue)
    reader.start()
    seconds = ctx.args.warmup + ctx.args.latency_seconds
    measured_from = time.time() + ctx.args.warmup
    try:
        busy_before = support.machine_cpu()
        sent, elapsed = run_producers(ctx, mode, queue, seconds)
        busy_after = support.machine_cpu()
        support.wait_for(lambda: len(reader.received) >= sent, 30.0, f"{label}: all {sent} messages in Redis", [])
    finally:
        reader.stop.set()
        reader.join(timeout=5)
    parse = support.parse_relay_frame if mode == "outbox" else support.parse_oncommit_frame
    frames = [parse(raw, received) for received, raw in reader.received]
    samples = [(f.received - f.published) * 1000 for f in frames if f.published >= measured_from]
    total = busy_after[1] - busy_before[1]
    busy = (busy_after[0] - busy_before[0]) / total if total > 0 else 0.0
    return Latency(label, sent, elapsed, samples, busy)


def parse_sent(out: str) -> tuple[int, float]:
    for line in out.splitlines():
        if line.startswith("SENT "):
            _, sent, elapsed = line.split()
            return int(sent), float(elapsed)
    raise RuntimeError(f"producer printed no SENT line:\n{out}")


def relay_latency(ctx: Context, wakeup: bool) -> Latency:
    truncate_outbox(ctx.conn)
    relay = ctx.children.relay("latency", once=False, wakeup=wakeup, rules=ctx.rules)
    try:
        wait_relay_ready(ctx.conn, relay)
        extra = {"EVENTS_WAKEUP_REDIS_URL": ctx.children.wakeup_url(wakeup)}
        ctx.children.env.update(extra)
        label = "relay, wake-up on" if wakeup else "relay, polling 5–50 ms"
        cpu_before, start = support.proc_cpu_seconds(relay.pid), time.monotonic()
        result = measure_latency(ctx, label, "outbox", ctx.queue)
        result.relay_cpu = (support.proc_cpu_seconds(relay.pid) - cpu_before) / (time.monotonic() - start) * 100
        return result
    finally:
        ctx.children.env["EVENTS_WAKEUP_REDIS_URL"] = ""
        ctx.children.stop(relay)


def oncommit_burst(ctx: Context, queue: str) -> float:
    args = ["produce", "oncommit", "--count", str(ctx.args.burst), "--queue", queue, "--broker", ctx.args.redis_url]
    sent, elapsed = parse_sent(support.run_child(ctx.children, args, "producer-burst.log", 120, {}))
    support.wait_for(lambda: int(ctx.redis.llen(queue)) >= sent, 30.0, "burst in Redis", [])
    ctx.redis.delete(queue)
    return sent / elapsed


# --- (d) ceiling, (e) idle ------------------------------------------------------------------------------------


def broker_ceiling(ctx: Context, size: int) -> float:
    key = ctx.prefix + "ceiling"
    message = b"x" * size
    count = ctx.args.ceiling_messages
    start = time.perf_counter()
    for first in range(0, count, 1000):
        pipe = ctx.redis.pipeline(transaction=False)
        for _ in range(min(1000, count - first)):
            pipe.lpush(key, message)
        pipe.execute()
    seconds = time.perf_counter() - start
    ctx.redis.delete(key)
    return count / seconds


def idle_cpu(ctx: Context, wakeup: bool) -> float:
    truncate_outbox(ctx.conn)
    relay = ctx.children.relay("idle", once=False, wakeup=wakeup, rules=ctx.rules)
    try:
        wait_relay_ready(ctx.conn, relay)
        time.sleep(1.0)  # past start-up
        before, start = support.proc_cpu_seconds(relay.pid), time.monotonic()
        time.sleep(ctx.args.idle_seconds)
        after, end = support.proc_cpu_seconds(relay.pid), time.monotonic()
    finally:
        ctx.children.stop(relay)
    return (after - before) / (end - start) * 100


# --- report ---------------------------------------------------------------------------------------------------


def machine_info(ctx: Context, loadavg: tuple[float, float, float]) -> list[tuple[str, str]]:
    dirty = support.git("status", "--porcelain", "--", "events")
    info = ctx.redis.info("server")
    return [
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("cores", f"{os.cpu_count()} ({cpu_model()})"),
        ("load avg", " ".join(f"{x:.2f}" for x in loadavg) + " (1/5/15 min, before the run)"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("postgresql", support.postgres_version(ctx.conn)),
        ("redis", f"{info.get('redis_version', '?')} (redis-py {importlib.metadata.version('redis')})"),
        ("celery", f"{importlib.metadata.version('celery')} / kombu {importlib.metadata.version('kombu')}"),
        (
            "commit",
            support.git("rev-parse", "--short", "HEAD") + (" + uncommitted changes in events/" if dirty else ""),
        ),
    ]


def fmt(value: float | None, pattern: str = "{:.1f}") -> str:
    return "-" if value is None else pattern.format(value)


@dataclass
class Results:
    payload_bytes: float = 0.0
    frame_bytes: float = 0.0
    drains: list[Drain] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    burst_rate: float = 0.0
    ceiling: dict[int, float] = field(default_factory=dict)  # message bytes -> events/s
    idle: dict[str, float] = field(default_factory=dict)


def rows(results: Results, args: argparse.Namespace) -> list[tuple[str, str, str]]:
    out = []
    for d in results.drains:
        order = f"{d.in_queue:,} in queue, {d.violations} order violations"
        label = f"(a) drain {d.events:,} events, {d.relays} relay{'s' if d.relays > 1 else ''}"
        out.append((label, f"{d.rate:,.0f} events/s ({order})", TARGETS["drain"]))
    for lat in results.latencies:
        p50, p99 = support.percentile(lat.samples, 50), support.percentile(lat.samples, 99)
        relay_cpu = "" if lat.relay_cpu is None else f", relay CPU {lat.relay_cpu:.0f} %"
        figure = (
            f"p50 {fmt(p50)} ms, p99 {fmt(p99)} ms (n={len(lat.samples)}, produced {lat.rate:.0f}/s, "
            f"machine {lat.machine_busy:.0%} busy{relay_cpu})"
        )
        target = TARGETS["latency"] if lat.label.startswith("relay") else "(baseline)"
        out.append((f"({'b' if lat.label.startswith('relay') else 'c'}) latency at {args.rate:g}/s, {lat.label}",
                    figure, target))  # fmt: skip
    out.append((f"(c) on_commit + send_task, burst of {args.burst:,}", f"{results.burst_rate:,.0f} events/s",
                "(baseline)"))  # fmt: skip
    for size, rate in results.ceiling.items():
        out.append((f"(d) broker ceiling: pipelined LPUSH, {args.ceiling_messages:,} × {size} B",
                    f"{rate:,.0f} events/s", "(ceiling)"))  # fmt: skip
    for label, pct in results.idle.items():
        out.append((f"(e) idle relay CPU, {label}", f"{pct:.2f} % of a core", TARGETS["idle"]))
    return out


def report(info: Sequence[tuple[str, str]], results: Results, args: argparse.Namespace) -> str:
    width = max(len(key) for key, _ in info)
    lines = [f"{key.ljust(width)}  {value}" for key, value in info]
    lines.append(f"{'events'.ljust(width)}  {support.EVENT_TYPE}, payload {results.payload_bytes:.0f} B, "
                 f"Redis frame {results.frame_bytes:.0f} B")  # fmt: skip
    lines += ["", support.table(rows(results, args)), ""]
    window = f"{args.warmup:g} s warm-up, {args.latency_seconds:g} s measured"
    lines.append(
        "latency: arrival in Redis (BRPOP in a reader thread) minus the time stamped before commit "
        f"(envelope time / on_commit stamp); {window}; {args.producers} producer processes at "
        f"{args.rate / args.producers:g}/s each, one transaction per event"
    )
    lines.append("drain: relays started first and blocked on a table lock; clock from releasing it to no unsent row")
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------------------


@dataclass
class Context:
    args: argparse.Namespace
    database_url: str
    conn: psycopg.Connection
    redis: redis.Redis
    children: support.Children
    prefix: str
    rules: Path

    @property
    def queue(self) -> str:
        return self.prefix + CONSUMER


@dataclass(frozen=True)
class Template:
    envelope: dict[str, Any]  # a real envelope from events.outbox.publish
    partitions: list[int]  # events.outbox.partition_of() of each backlog aggregate, computed by Django


def prepare(ctx: Context, results: Results) -> Template:
    print("migrating ...", file=sys.stderr)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=ctx.children.env,
                   check=True, timeout=300, capture_output=True)  # fmt: skip
    out = support.run_child(ctx.children, ["template", "--count", str(ctx.args.aggregates)], "template.log", 120, {})
    raw = json.loads(out.strip().splitlines()[-1])
    template = Template(raw["envelope"], raw["partitions"])
    results.frame_bytes = len(relay_frame(template.envelope))
    return template


def relay_frame(envelope: dict[str, Any]) -> bytes:
    """The message the relay LPUSHes for this envelope (to size the broker ceiling's messages)."""
    from events.transports.celery_protocol import redis_frame

    return redis_frame("bench-q", CONSUMER, json.dumps(envelope, separators=(",", ":")), str(envelope["id"]), 0)


def benchmark(ctx: Context) -> Results:
    results = Results()
    template = prepare(ctx, results)
    print("(d) broker ceiling ...", file=sys.stderr)
    for size in (CEILING_BYTES, int(results.frame_bytes)):
        results.ceiling[size] = broker_ceiling(ctx, size)
    for relays in (1, 2):
        print(f"(a) filling {ctx.args.events:,} events, draining with {relays} relay(s) ...", file=sys.stderr)
        results.payload_bytes = fill_outbox(ctx.conn, template, ctx.args.events)
        results.drains.append(drain(ctx, relays))
    for wakeup in (True, False):
        print(f"(b) latency, wake-up {'on' if wakeup else 'off'} ...", file=sys.stderr)
        results.latencies.append(relay_latency(ctx, wakeup))
    print("(c) on_commit + send_task ...", file=sys.stderr)
    oncommit = ctx.prefix + "oncommit"
    results.latencies.append(measure_latency(ctx, "on_commit + send_task", "oncommit", oncommit))
    results.burst_rate = oncommit_burst(ctx, oncommit)
    for wakeup in (True, False):
        print(f"(e) idle CPU, wake-up {'on' if wakeup else 'off'} ...", file=sys.stderr)
        results.idle["wake-up on" if wakeup else "polling"] = idle_cpu(ctx, wakeup)
    return results


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace, database_url: str, workdir: Path, client: redis.Redis, prefix: str) -> None:
    loadavg = os.getloadavg()
    rules = workdir / "rules.yaml"
    rules.write_text(RULES)
    env = {**os.environ, "DATABASE_URL": database_url, "EVENTS_BROKER_URL": args.redis_url,
           "EVENTS_QUEUE_PREFIX": prefix, "EVENTS_WAKEUP_REDIS_URL": "", "PYTHONUNBUFFERED": "1", "DEBUG": "0",
           "LOG_LEVEL": "WARNING"}  # fmt: skip
    children = support.Children(env, workdir)
    with psycopg.connect(database_url, autocommit=True) as conn:
        ctx = Context(args, database_url, conn, client, children, prefix, rules)
        try:
            results = benchmark(ctx)
        finally:
            children.stop_all()
        print(report(machine_info(ctx, loadavg), results, args))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGINT):  # SIGINT too: a shell may start us with it ignored
        signal.signal(signum, raise_interrupt)
    prefix = f"bench-{os.getpid()}-"
    client = redis.Redis.from_url(args.redis_url)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp,
            support.redis_keys_cleaned(client, prefix),
            fresh_database(args.server_url) as database_url,
        ):
            run(args, database_url, Path(tmp), client, prefix)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (RuntimeError, TimeoutError, ValueError, psycopg.Error, redis.RedisError, subprocess.SubprocessError) as exc:
        print(f"bench/relay.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
