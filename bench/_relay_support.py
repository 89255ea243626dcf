"""Helpers for bench/relay.py: the Django-side roles it runs as child processes, and reading Redis frames back.

Run as a child process (DATABASE_URL and the EVENTS_* variables set by bench/relay.py)::

    python bench/_relay_support.py template --count 1000          # one real envelope, partitions, as JSON
    python bench/_relay_support.py produce outbox --rate 500 --seconds 11
    python bench/_relay_support.py produce oncommit --rate 0 --count 5000 --queue Q --broker redis://...
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = Path(__file__).resolve()
STOP_DEADLINE_S = 30.0
EVENT_TYPE = "stock.adjusted"  # with one small level: an envelope of ~430 bytes, the size DESIGN.md measured
AGGREGATE_TYPE = "stock"
SOURCE = "bench/relay"
PRODUCER_AGGREGATES = 100


def aggregate_id(k: int) -> str:
    return str(uuid.UUID(int=k + 1))


def event_data(sku: str) -> dict[str, Any]:
    return {"warehouse": "main", "sku": sku, "delta": -1, "reason": "bench", "levels": []}


# --- child-process roles (Django) -----------------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings")
    import django

    django.setup()


def publish_one(k: int) -> str:
    from django.db import transaction

    from events.outbox import publish

    with transaction.atomic():
        envelope = publish(
            type=EVENT_TYPE, source=SOURCE, aggregate_type=AGGREGATE_TYPE, aggregate_id=aggregate_id(k),
            data=event_data(aggregate_id(k)),
        )  # fmt: skip
    return envelope.to_json().decode()


def on_commit_sender(broker: str, queue: str) -> Callable[[int], None]:
    """What teams write today: a row written, then ``transaction.on_commit(lambda: send_task(...))``."""
    from celery import Celery
    from django.db import connection, transaction

    app = Celery("bench", broker=broker)

    def send(k: int) -> None:
        agg = aggregate_id(k)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO events_aggregatesequence (aggregate_type, aggregate_id, last_sequence) "
                    "VALUES (%s, %s, 1) ON CONFLICT (aggregate_type, aggregate_id) "
                    "DO UPDATE SET last_sequence = events_aggregatesequence.last_sequence + 1",
                    ["bench-oncommit", agg],
                )
            stamp = time.time()  # like the envelope's time: taken before commit
            transaction.on_commit(lambda: app.send_task("bench.noop", args=[stamp, event_data(agg)], queue=queue))

    return send


def produce(send: Callable[[int], None], rate: float, seconds: float, count: int, offset: int) -> tuple[int, float]:
    """Call ``send`` on an absolute schedule (``rate`` per second; 0: as fast as possible), over this producer's
    own aggregates (``offset``), so that producers never wait for each other's sequence row locks."""
    total = count if count else int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        if rate:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        send(offset * PRODUCER_AGGREGATES + i % PRODUCER_AGGREGATES)
    return total, time.perf_counter() - start


def child_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description="bench/relay.py child roles (not for direct use)")
    parser.add_argument("role", choices=["template", "produce"])
    parser.add_argument("mode", nargs="?", choices=["outbox", "oncommit"], default="outbox")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--queue", default="")
    parser.add_argument("--broker", default="")
    parser.add_argument("--offset", type=int, default=0)
    args = parser.parse_args(argv)
    setup_django()
    if args.role == "template":  # one real envelope, and the real partition of each backlog aggregate
        from events.outbox import partition_of

        partitions = [partition_of(AGGREGATE_TYPE, aggregate_id(k)) for k in range(args.count)]
        print(json.dumps({"envelope": json.loads(publish_one(0)), "partitions": partitions}))
        return 0
    send = on_commit_sender(args.broker, args.queue) if args.mode == "oncommit" else publish_one
    sent, elapsed = produce(send, args.rate, args.seconds, args.count, args.offset)
    print(f"SENT {sent} {elapsed:.6f}", flush=True)
    return 0


# --- reading frames back (bench process) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    """One message taken from a queue: when it was seen, and what the producer stamped before commit."""

    received: float  # time.time()
    published: float
    key: tuple[str, str]  # (aggregate type, aggregate id)
    sequence: int


def task_args(frame: bytes) -> list[Any]:
    message = json.loads(frame)
    body = json.loads(base64.b64decode(message["body"]))
    return list(body[0])


def parse_relay_frame(raw: bytes, received: float = 0.0) -> Frame:
    _consumer, envelope_json, _previous = task_args(raw)
    envelope = json.loads(envelope_json)
    published = datetime.fromisoformat(envelope["time"].replace("Z", "+00:00")).timestamp()
    return Frame(received, published, (envelope["aggregatetype"], envelope["subject"]), int(envelope["sequence"]))


def parse_oncommit_frame(raw: bytes, received: float = 0.0) -> Frame:
    stamp, data = task_args(raw)[:2]
    return Frame(received, float(stamp), (AGGREGATE_TYPE, str(data["sku"])), 0)


def order_violations(frames: Iterable[Frame]) -> int:
    """Frames oldest first; a violation is an aggregate's sequence not above the last one seen for it."""
    last: dict[tuple[str, str], int] = {}
    violations = 0
    for frame in frames:
        if frame.sequence <= last.get(frame.key, 0):
            violations += 1
        last[frame.key] = max(frame.sequence, last.get(frame.key, 0))
    return violations


def percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


# --- infrastructure for bench/relay.py: database, Redis, child processes, report ------------------------------


@contextlib.contextmanager
def redis_keys_cleaned(client: redis.Redis, prefix: str) -> Iterator[None]:
    """Delete every key matching ``*<prefix>*`` at the end (never FLUSHALL)."""
    try:
        yield
    finally:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        print(f"deleted {len(keys)} redis keys matching *{prefix}*", file=sys.stderr)


def scalar(conn: psycopg.Connection, query: str) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def postgres_version(conn: psycopg.Connection) -> str:
    row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


# --- child processes ------------------------------------------------------------------------------------------


@dataclass
class Children:
    """Every process the benchmark started, so that all are stopped whatever happens."""

    env: dict[str, str]
    workdir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, args: Sequence[str], log: str, extra: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        with (self.workdir / log).open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, *args], env={**self.env, **(extra or {})}, cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.procs.append(proc)
        return proc

    def relay(self, name: str, *, once: bool, wakeup: bool, rules: Path) -> subprocess.Popen[bytes]:
        args = ["manage.py", "events_relay", "--name", name, "--rules", str(rules)] + (["--once"] if once else [])
        return self.start(args, f"relay-{name}.log", {"EVENTS_WAKEUP_REDIS_URL": self.wakeup_url(wakeup)})

    def wakeup_url(self, wakeup: bool) -> str:
        return self.env["EVENTS_BROKER_URL"] if wakeup else ""

    def log(self, name: str, tail: int | None = None) -> str:
        path = self.workdir / name
        text = path.read_text(errors="replace") if path.exists() else ""
        return text[-tail:] if tail else text

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        from bench._common import stop_group  # here: this file also runs as a script, without the repo on sys.path

        stop_group(proc, STOP_DEADLINE_S)

    def stop_all(self) -> None:
        for proc in self.procs:
            self.stop(proc)


def run_child(children: Children, args: Sequence[str], log: str, deadline: float, extra: Mapping[str, str]) -> str:
    proc = children.start([str(SUPPORT), *args], log, extra)
    try:
        proc.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        children.stop(proc)
        raise TimeoutError(f"{log}: no exit after {deadline:.0f}s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"{log} failed ({proc.returncode}):\n{children.log(log, 3000)}")
    return children.log(log)


def wait_for(
    condition: Callable[[], bool],
    deadline_s: float,
    what: str,
    procs: Sequence[subprocess.Popen[bytes]],
    *,
    all_exited: bool = False,
) -> None:
    """Poll ``condition``; fail when a process of ``procs`` exits first (with ``all_exited``: all of them)."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        exited = [p.poll() is not None for p in procs]
        if exited and (all(exited) if all_exited else any(exited)):
            raise RuntimeError(f"process exit while waiting for {what}: {[p.returncode for p in procs]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {deadline_s:.0f}s")
        time.sleep(0.005)


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else "?"


def table(lines: Sequence[tuple[str, str, str]]) -> str:
    header = ("measurement", "result", "target")
    widths = [max(len(h), *(len(row[i]) for row in lines)) for i, h in enumerate(header)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in lines]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
