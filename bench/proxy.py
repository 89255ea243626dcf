"""Strangler proxy: throughput, latency and CPU per request, beside nginx and django-revproxy, with one wrk.

::

    .venv/bin/python bench/proxy.py                            # both targets, 16 connections, 2 s + 10 s per row
    .venv/bin/python bench/proxy.py --targets trivial --seconds 5 --warmup 1

Two targets, each measured directly and through every proxy, always with the same load generator (wrk, whose
``--latency`` histogram gives p50 and p99):

- **trivial backend**: ``bench/proxy_backend.py``, a uvloop + httptools protocol answering ~100 B of JSON;
- **monolith**: ``GET /api/inventory/stock/MUG-LOGO/`` of the monolith under gunicorn (``monolith.gunicorn_conf``,
  sync workers), on a fresh PostgreSQL database ``strangler_bench_<pid>``, migrated and seeded with the demo shop.

Rows per target: direct; the strangler proxy (``python -m strangler_proxy``, one uvicorn process, state in a
temporary SQLite file, logging at WARNING) in ``monolith`` mode with its aiohttp client and again with
``--client httpx``; the aiohttp proxy in ``shadow`` mode (set through the admin API's PATCH with a token; the
group's service is a second trivial backend, answering what the target answers, so copies match); nginx with an
equivalent configuration and ``worker_processes 1`` (one process, like the proxy); django-revproxy's ProxyView
in a minimal Django project (``bench/revproxy_site``) under gunicorn with the monolith's worker count.

Each row: a warm-up run (discarded), a loaded run (``--connections``, ``--threads``) for req/s, p50, p99 and the
CPU of the serving processes (utime + stime of their process group over the run, divided by requests), and a
low-load run with one connection for the latency a proxy adds (its p50 minus the direct p50). Every process is
stopped, the temporary directory removed and the database dropped at the end, also on error, Ctrl-C or SIGTERM.
The load generator, the proxies and the targets share the machine's cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import importlib.metadata
import importlib.util
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _proxy_support as support  # noqa: E402
from bench._common import cpu_model, fresh_database, positive_int  # noqa: E402
from bench.checkout import free_port, manage, memory_gib, monolith_env  # noqa: E402
from bench.proxy_backend import DEFAULT_BODY  # noqa: E402
from monolith import gunicorn_conf  # noqa: E402

ROOT = support.ROOT
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/"
TARGETS = ("trivial", "monolith")
GROUP = "bench"
CHOSEN = "h1"  # the client the proxy uses by default for http upstreams (strangler_proxy.clients)
BACKEND = ROOT / "bench" / "proxy_backend.py"
GOALS = {
    "nginx": "≥ 0.35× nginx",
    "revproxy": "≥ 3× django-revproxy",
    "cpu": "≤ 150 µs",
    "added": "≤ 0.5 ms",
    "shadow": "≤ 0.2 ms",
    "loss": "≤ 10 %",
}


# --- command line ---------------------------------------------------------------------------------------------


def target_list(raw: str) -> list[str]:
    names = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [name for name in names if name not in TARGETS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(TARGETS)}, got {raw!r}")
    return names


def whole_seconds(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"wrk takes whole seconds, got {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the strangler proxy against direct access, nginx and django-revproxy (wrk).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--targets", type=target_list, default="trivial,monolith", help="what the proxies front")
    parser.add_argument("--connections", type=positive_int, default=16, help="wrk connections, loaded runs")
    parser.add_argument("--threads", type=positive_int, default=2, help="wrk threads, loaded runs")
    parser.add_argument("--seconds", type=whole_seconds, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=whole_seconds, default=2, help="unmeasured seconds before each row (0: none)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="after the rows, alternating loaded runs of direct, the proxy and nginx, this many times: "
                        "the targets that compare them use the median of the rounds (0: none)")  # fmt: skip
    parser.add_argument("--pool", type=positive_int, default=None,
                        help="upstream keep-alive pool of the proxies (default: --connections)")  # fmt: skip
    parser.add_argument("--workers", type=positive_int, default=gunicorn_conf.workers,
                        help="monolith gunicorn workers (monolith.gunicorn_conf: 2*cores+1)")  # fmt: skip
    parser.add_argument("--gunicorn-args", default="",
                        help="extra gunicorn options for the monolith (GUNICORN_CMD_ARGS), e.g. "
                        "'--worker-class gthread --threads 4' for keep-alive capable workers")  # fmt: skip
    parser.add_argument("--revproxy-workers", type=positive_int, default=gunicorn_conf.workers,
                        help="django-revproxy gunicorn sync workers (default: the monolith's)")  # fmt: skip
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL,
                        help="PostgreSQL server on which strangler_bench_<pid> is created and dropped")  # fmt: skip
    parser.add_argument("--wrk", default="wrk", help="the wrk binary")
    parser.add_argument("--nginx", default="nginx", help="the nginx binary (also looked for in /usr/sbin)")
    args = parser.parse_args(argv)
    if args.seconds < 1:
        parser.error("--seconds must be at least 1")
    args.pool = args.pool or args.connections
    return args


# --- results --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    target: str  # "trivial" | "monolith"
    kind: str  # direct | h1 | aiohttp | httpx | shadow | nginx | revproxy
    label: str
    loaded: support.WrkRun
    low: support.WrkRun

    @property
    def cpu_us(self) -> float | None:
        if self.loaded.cpu_seconds is None or not self.loaded.requests:
            return None
        return self.loaded.cpu_seconds / self.loaded.requests * 1e6


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    shadow: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    # target -> one dict per round: kind ("direct", CHOSEN, "nginx") -> loaded req/s
    rounds: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def row(self, target: str, kind: str) -> Row | None:
        return next((r for r in self.rows if r.target == target and r.kind == kind), None)


@dataclass
class Context:
    args: argparse.Namespace
    workdir: Path
    children: support.Children
    wrk: support.Wrk
    nginx: str | None
    results: Results = field(default_factory=Results)


@dataclass(frozen=True)
class Target:
    key: str  # "trivial" | "monolith"
    url: str  # base URL, direct
    pgid: int  # process group of the target's server
    service_url: str  # the shadow service: a trivial backend answering what the target answers


@dataclass(frozen=True)
class Running:
    url: str
    pgid: int
    admin: support.Admin | None = None


# --- measuring ------------------------------------------------------------------------------------------------


def measure(ctx: Context, target: Target, kind: str, label: str, base_url: str, pgid: int) -> Row:
    args, url = ctx.args, base_url + support.BENCH_PATH
    print(f"  {target.key}: {label} ...", file=sys.stderr)
    if args.warmup > 0:
        ctx.wrk.run(url, threads=args.threads, connections=args.connections, seconds=args.warmup)
    loaded = ctx.wrk.run(url, threads=args.threads, connections=args.connections, seconds=args.seconds, pgid=pgid)
    low = ctx.wrk.run(url, threads=1, connections=1, seconds=args.seconds, pgid=pgid)
    row = Row(target.key, kind, label, loaded, low)
    ctx.results.rows.append(row)
    return row


def attempt(ctx: Context, target: Target, label: str, run: Callable[[], object]) -> None:
    """Run one row (or a few sharing a server); when it cannot run, say why and go on with the others."""
    try:
        run()
    except (RuntimeError, TimeoutError, OSError, httpx.HTTPError) as exc:
        ctx.results.skipped.append(f"{target.key}: {label}: could not run: {exc}")
        print(f"  {target.key}: {label}: FAILED: {exc}", file=sys.stderr)


def ready(ctx: Context, proc: subprocess.Popen[bytes], log: str, what: str, *urls: str) -> None:
    """Wait for each URL to answer 200; when the server dies or never answers, fail with the end of its log."""
    try:
        for url in urls:
            support.wait_http(url, [proc], what)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"{exc}\n--- end of {log} ---\n{ctx.children.log(log, 1500)}") from None


@contextlib.contextmanager
def backend(
    ctx: Context, name: str, body: Path | None = None, content_type: str = "application/json"
) -> Iterator[Running]:
    port = free_port()
    lifetime = 3 * 3600  # a bound, in case even PR_SET_PDEATHSIG could not stop it
    argv = [sys.executable, str(BACKEND), "--port", str(port), "--lifetime", str(lifetime),
            "--content-type", content_type] + (["--body-file", str(body)] if body else [])  # fmt: skip
    proc = ctx.children.start(argv, f"{name}.log")
    url = f"http://127.0.0.1:{port}"
    try:
        ready(ctx, proc, f"{name}.log", name, url + support.BENCH_PATH)
        yield Running(url, proc.pid)
    finally:
        ctx.children.stop(proc)


# --- targets --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def trivial_target(ctx: Context) -> Iterator[Target]:
    with backend(ctx, "backend-trivial") as server, backend(ctx, "service-trivial") as service:
        yield Target("trivial", server.url, server.pgid, service.url)


@contextlib.contextmanager
def monolith_target(ctx: Context) -> Iterator[Target]:
    with fresh_database(ctx.args.server_url) as database_url, contextlib.ExitStack() as stack:
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            ctx.results.notes["postgresql"] = str(row[0]) if row else "?"
        port = free_port()
        env = {**monolith_env(database_url, port, ctx.args.workers), "LOG_LEVEL": "WARNING"}
        if ctx.args.gunicorn_args:
            env["GUNICORN_CMD_ARGS"] = ctx.args.gunicorn_args
        print("  monolith: migrating and seeding a fresh database ...", file=sys.stderr)
        manage("migrate", "--noinput", "-v0", env=env)
        manage("seed_demo", env=env)
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:monolith.gunicorn_conf", "monolith.wsgi"]
        proc = ctx.children.start(argv, "monolith.log", env)
        stack.callback(ctx.children.stop, proc)
        url = f"http://127.0.0.1:{port}"
        ready(ctx, proc, "monolith.log", "monolith (gunicorn)", url + "/healthz")
        answer = httpx.get(url + support.BENCH_PATH, timeout=10)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {support.BENCH_PATH} -> {answer.status_code}: {answer.text[:300]}")
        body = ctx.workdir / "monolith-answer.json"
        body.write_bytes(answer.content)
        content_type = answer.headers.get("content-type", "application/json")
        service = stack.enter_context(backend(ctx, "service-monolith", body, content_type))
        yield Target("monolith", url, proc.pid, service.url)


# --- proxies --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def strangler(ctx: Context, target: Target, client: str, tag: str = "") -> Iterator[Running]:
    """A proxy process with its own state file (a new ``tag``, a new file: every group in monolith mode)."""
    port, admin_port, name = free_port(), free_port(), f"proxy-{target.key}-{client}{tag}"
    config = ctx.workdir / f"{name}.yaml"
    config.write_text(support.proxy_config(target=target.url, service=target.service_url, listen=port,
                                           admin=admin_port, state=ctx.workdir / f"{name}.sqlite3",
                                           pool=ctx.args.pool))  # fmt: skip
    token = secrets.token_urlsafe(24)
    env = {**os.environ, "STRANGLER_ADMIN_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "strangler_proxy", "--config", str(config), "--client", client,
            "--log-level", "WARNING"]  # fmt: skip
    proc = ctx.children.start(argv, f"{name}.log", env)
    admin_url, url = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{port}"
    try:
        ready(ctx, proc, f"{name}.log", f"strangler proxy ({client})", admin_url + "/healthz", url + support.BENCH_PATH)
        yield Running(url, proc.pid, support.Admin(admin_url, token))
    finally:
        ctx.children.stop(proc)


def strangler_rows(ctx: Context, target: Target, client: str) -> None:
    with strangler(ctx, target, client) as proxy:
        measure(ctx, target, client, f"strangler proxy, monolith mode, {client}", proxy.url, proxy.pgid)
        if client == CHOSEN:
            attempt(ctx, target, "strangler proxy, shadow mode", lambda: shadow_row(ctx, target, proxy))


def shadow_row(ctx: Context, target: Target, proxy: Running) -> None:
    admin = proxy.admin
    assert admin is not None
    before = admin.metrics()
    admin.set_mode(GROUP, "shadow", "bench/proxy.py: the shadow row")
    measure(ctx, target, "shadow", f"strangler proxy, shadow mode, {CHOSEN}", proxy.url, proxy.pgid)
    drained = support.wait_until(
        lambda: support.metric(admin.metrics(), "strangler_proxy_shadow_queue", group=GROUP) == 0, 30
    )
    after, mode = admin.metrics(), admin.mode(GROUP)

    def delta(name: str, **labels: str) -> int:
        return round(support.metric(after, name, **labels) - support.metric(before, name, **labels))

    served = delta("strangler_proxy_requests_total", group=GROUP)
    outcomes = ("match", "mismatch", "dropped", "skipped", "error", "timeout")
    counts = ", ".join(f"{o} {delta('strangler_proxy_shadow_total', group=GROUP, outcome=o):,}" for o in outcomes)
    state = "still in shadow mode" if mode == "shadow" else f"**now in {mode} mode (rolled back?)**"
    queue = "queue drained" if drained else "**queue not drained within 30 s**"
    ctx.results.shadow.append(f"{target.key}: {served:,} user requests in shadow mode; copies: {counts}; "
                              f"{queue}; group {state}")  # fmt: skip


@contextlib.contextmanager
def nginx(ctx: Context, target: Target, binary: str) -> Iterator[Running]:
    directory = Path(tempfile.mkdtemp(prefix=f"nginx-{target.key}-", dir=ctx.workdir))  # one per start
    port, upstream_port = free_port(), int(target.url.rsplit(":", 1)[1])
    config = directory / "nginx.conf"
    config.write_text(support.nginx_config(workdir=directory, listen=port, upstream_port=upstream_port,
                                           keepalive=ctx.args.pool))  # fmt: skip
    log = f"{directory.name}.log"
    proc = ctx.children.start([binary, "-p", str(directory), "-c", str(config)], log)
    try:
        ready(ctx, proc, log, "nginx", f"http://127.0.0.1:{port}{support.BENCH_PATH}")
        yield Running(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        ctx.children.stop(proc)


@contextlib.contextmanager
def revproxy(ctx: Context, target: Target) -> Iterator[Running]:
    port, log = free_port(), f"revproxy-{target.key}.log"
    env = {**os.environ, "REVPROXY_UPSTREAM": target.url, "REVPROXY_BIND": f"127.0.0.1:{port}",
           "REVPROXY_WORKERS": str(ctx.args.revproxy_workers), "DJANGO_SETTINGS_MODULE": "bench.revproxy_site.settings",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:bench.revproxy_site.gunicorn_conf",
            "bench.revproxy_site.wsgi"]  # fmt: skip
    proc = ctx.children.start(argv, log, env)
    try:
        ready(ctx, proc, log, "django-revproxy (gunicorn)", f"http://127.0.0.1:{port}{support.BENCH_PATH}")
        yield Running(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        ctx.children.stop(proc)


def target_rows(ctx: Context, target: Target) -> None:
    attempt(ctx, target, "direct", lambda: measure(ctx, target, "direct", "direct", target.url, target.pgid))
    for client in (CHOSEN, "aiohttp", "httpx"):
        attempt(ctx, target, f"strangler proxy ({client})", functools.partial(strangler_rows, ctx, target, client))
    if ctx.nginx:
        binary = ctx.nginx

        def nginx_row() -> None:
            with nginx(ctx, target, binary) as server:
                measure(ctx, target, "nginx", "nginx, 1 worker, keep-alive pool", server.url, server.pgid)

        attempt(ctx, target, "nginx", nginx_row)
    if importlib.util.find_spec("revproxy") is not None:

        def revproxy_row() -> None:
            with revproxy(ctx, target) as server:
                label = f"django-revproxy, gunicorn {ctx.args.revproxy_workers} sync"
                measure(ctx, target, "revproxy", label, server.url, server.pgid)

        attempt(ctx, target, "django-revproxy", revproxy_row)
    if ctx.args.rounds > 0:
        attempt(ctx, target, "alternating rounds", lambda: alternating_rounds(ctx, target))


def alternating_rounds(ctx: Context, target: Target) -> None:
    """Direct, the proxy and nginx, one loaded run each, round after round: on a machine whose speed drifts
    (shared cores), each round's ratios compare runs seconds apart, and the median of the rounds is the figure."""
    args, path = ctx.args, support.BENCH_PATH
    with contextlib.ExitStack() as stack:
        servers = {
            "direct": Running(target.url, target.pgid),
            # Not the rows' state file: their shadow row left the group in shadow mode.
            CHOSEN: stack.enter_context(strangler(ctx, target, CHOSEN, "-rounds")),
        }
        if ctx.nginx:
            servers["nginx"] = stack.enter_context(nginx(ctx, target, ctx.nginx))
        rounds = ctx.results.rounds.setdefault(target.key, [])
        for number in range(1, args.rounds + 1):
            print(f"  {target.key}: alternating round {number}/{args.rounds} ...", file=sys.stderr)
            rates = {}
            for kind, server in servers.items():
                url = server.url + path
                if args.warmup > 0:
                    ctx.wrk.run(url, threads=args.threads, connections=args.connections, seconds=args.warmup)
                run = ctx.wrk.run(url, threads=args.threads, connections=args.connections, seconds=args.seconds)
                rates[kind] = run.rate
            rounds.append(rates)


# --- report ---------------------------------------------------------------------------------------------------


def fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "-" if value is None else pattern.format(value)


def added_p50(results: Results, row: Row, base_kind: str = "direct") -> float | None:
    base = results.row(row.target, base_kind)
    return None if base is None or row.kind == base_kind else row.low.p50_ms - base.low.p50_ms


def rows_table(results: Results) -> str:
    header = ("target", "row", "req/s", "p50 ms", "p99 ms", "1 conn: p50 ms", "added p50 ms", "CPU/req µs",
              "machine busy", "errors")  # fmt: skip
    lines = []
    for r in results.rows:
        errors = r.loaded.errors + r.low.errors
        lines.append((r.target, r.label, f"{r.loaded.rate:,.0f}", fmt(r.loaded.p50_ms), fmt(r.loaded.p99_ms),
                      fmt(r.low.p50_ms, "{:.3f}"), fmt(added_p50(results, r), "{:+.3f}"), fmt(r.cpu_us, "{:.0f}"),
                      fmt(r.loaded.machine_busy, "{:.0%}"),
                      f"{errors:,} ({r.loaded.error_detail or r.low.error_detail})" if errors else "0"))  # fmt: skip
    right = (False, False, True, True, True, True, True, True, True, False)
    return support.markdown_table(header, lines, right)


def verdict(value: float | None, ok: Callable[[float], bool]) -> str:
    return "?" if value is None else ("yes" if ok(value) else "**no**")


def goals_table(results: Results) -> str:
    lines: list[tuple[str, str, str, str]] = []
    proxy, nginx_row, rev = (results.row("trivial", k) for k in (CHOSEN, "nginx", "revproxy"))
    ratio, how = round_median(results, "trivial", lambda r: r[CHOSEN] / r["nginx"])
    if ratio is None and proxy and nginx_row:
        ratio, how = proxy.loaded.rate / nginx_row.loaded.rate, ""
    if ratio is not None:
        lines.append((f"trivial: req/s, proxy ({CHOSEN}) / nginx{how}", f"{ratio:.2f}×", GOALS["nginx"],
                      verdict(ratio, lambda v: v >= 0.35)))  # fmt: skip
    if proxy and rev:
        ratio = proxy.loaded.rate / rev.loaded.rate
        lines.append((f"trivial: req/s, proxy ({CHOSEN}) / django-revproxy", f"{ratio:.2f}×", GOALS["revproxy"],
                      verdict(ratio, lambda v: v >= 3)))  # fmt: skip
    for target in TARGETS:
        row, shadow = results.row(target, CHOSEN), results.row(target, "shadow")
        if row:
            lines.append((f"{target}: proxy CPU per request ({CHOSEN}, loaded)", fmt(row.cpu_us, "{:.0f} µs"),
                          GOALS["cpu"], verdict(row.cpu_us, lambda v: v <= 150)))  # fmt: skip
            added = added_p50(results, row)
            lines.append((f"{target}: added p50 at 1 connection ({CHOSEN})", fmt(added, "{:+.3f} ms"), GOALS["added"],
                          verdict(added, lambda v: v <= 0.5)))  # fmt: skip
        if shadow:
            added = added_p50(results, shadow, CHOSEN)
            lines.append((f"{target}: shadow's added p50 vs monolith mode, 1 connection", fmt(added, "{:+.3f} ms"),
                          GOALS["shadow"], verdict(added, lambda v: v <= 0.2)))  # fmt: skip
    direct, proxy = results.row("monolith", "direct"), results.row("monolith", CHOSEN)
    loss, how = round_median(results, "monolith", lambda r: 1 - r[CHOSEN] / r["direct"])
    if loss is None and direct and proxy:
        loss, how = 1 - proxy.loaded.rate / direct.loaded.rate, ""
    if loss is not None:
        lines.append((f"monolith: req/s lost through the proxy ({CHOSEN}) vs direct{how}", f"{loss:.1%}",
                      GOALS["loss"], verdict(loss, lambda v: v <= 0.10)))  # fmt: skip
    return support.markdown_table(("measurement", "result", "target", "met"), lines, (False, True, False, False))


def round_median(
    results: Results, target: str, figure: Callable[[dict[str, float]], float]
) -> tuple[float | None, str]:
    """The median over the alternating rounds of ``figure`` (None when no round has what it needs)."""
    values = []
    for rates in results.rounds.get(target, []):
        with contextlib.suppress(KeyError, ZeroDivisionError):
            values.append(figure(rates))
    if not values:
        return None, ""
    return statistics.median(values), f", median of {len(values)} alternating rounds"


def rounds_table(results: Results) -> str:
    def share(part: float | None, whole: float | None) -> str:
        return "-" if part is None or not whole else f"{part / whole:.2f}×"

    lines = []
    for target, rounds in results.rounds.items():
        for number, rates in enumerate(rounds, 1):
            direct, proxy, other = rates.get("direct"), rates.get(CHOSEN), rates.get("nginx")
            lines.append((target, str(number), fmt(direct, "{:,.0f}"), fmt(proxy, "{:,.0f}"), fmt(other, "{:,.0f}"),
                          share(proxy, direct), share(other, direct), share(proxy, other)))  # fmt: skip
    header = ("target", "round", "direct req/s", f"proxy ({CHOSEN}) req/s", "nginx req/s", "proxy / direct",
              "nginx / direct", "proxy / nginx")  # fmt: skip
    return support.markdown_table(header, lines, (False, True, True, True, True, True, True, True))


def versions(ctx: Context) -> str:
    packages = ("uvicorn", "aiohttp", "httpx", "gunicorn", "Django", "django-revproxy")
    found = []
    for name in packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    tools = [support.command_version([ctx.args.wrk, "-v"]).split(" [")[0]]
    if ctx.nginx:
        tools.append(support.command_version([ctx.nginx, "-v"]).removeprefix("nginx version: "))
    if "postgresql" in ctx.results.notes:
        tools.append(f"PostgreSQL {ctx.results.notes['postgresql']}")
    return ", ".join([f"CPython {platform.python_version()}", *found, *tools])


def info_table(ctx: Context, loadavg: tuple[float, float, float], started: dt.datetime) -> str:
    args, dirty = ctx.args, support.git("status", "--porcelain", "--", "strangler_proxy", "bench")
    commit = support.git("rev-parse", "--short", "HEAD") + (
        " + uncommitted changes in strangler_proxy/ or bench/" if dirty.strip() else ""
    )
    load = (
        f"wrk -t{args.threads} -c{args.connections}: {args.warmup} s warm-up (discarded) + {args.seconds} s "
        f"measured per row; then wrk -t1 -c1 for {args.seconds} s (added latency); GET {support.BENCH_PATH}"
        + (f"; then {args.rounds} alternating rounds of the loaded run (direct, proxy, nginx)" if args.rounds else "")
    )
    servers = [f"strangler proxy: one uvicorn process, upstream pool {args.pool}"]
    if ctx.nginx:
        servers.append(f"nginx: worker_processes 1, keepalive {args.pool}")
    if importlib.util.find_spec("revproxy") is not None:
        servers.append(f"django-revproxy: gunicorn {args.revproxy_workers} sync workers, no middleware")
    if "trivial" in args.targets:
        servers.append(f"trivial backend: bench/proxy_backend.py (uvloop + httptools, {len(DEFAULT_BODY)} B JSON)")
    if "monolith" in args.targets:
        how = f"`GUNICORN_CMD_ARGS='{args.gunicorn_args}'`" if args.gunicorn_args else "sync"
        servers.append(f"monolith: gunicorn {args.workers} workers ({how}), fresh PostgreSQL database")
    rows = [
        ("machine", f"`nproc` = {os.cpu_count()}, {cpu_model()}, {memory_gib()} memory"),
        ("load avg", " ".join(f"{x:.2f}" for x in loadavg) + " (1/5/15 min, before the run)"),
        ("software", versions(ctx)),
        ("date", started.strftime("%Y-%m-%d %H:%M UTC")),
        ("commit", f"`{commit}`"),
        ("command", f"`{support.python_command()}`"),
        ("load", load),
        ("servers", "; ".join(servers)),
    ]
    return support.markdown_table(("", ""), rows, (False, False))


def report(ctx: Context, loadavg: tuple[float, float, float], started: dt.datetime) -> str:
    results = ctx.results
    parts = [info_table(ctx, loadavg, started), "", rows_table(results) if results.rows else "(no rows measured)"]
    parts += ["", "req/s, p50, p99, CPU/req and machine busy: the loaded run. CPU/req: utime + stime of the serving "
              "process group over that run per request (direct rows: the target's own server, without PostgreSQL; "
              "proxy rows: the proxy). added p50: the row's p50 at 1 connection minus the direct one."]  # fmt: skip
    if "monolith" in ctx.args.targets:
        parts += [f"The monolith's gunicorn ran with GUNICORN_CMD_ARGS='{ctx.args.gunicorn_args}'. django-revproxy's "
                  "sync workers still close every connection after one answer." if ctx.args.gunicorn_args else
                  "gunicorn's sync workers close every connection after one answer (no keep-alive): wrk → monolith, "
                  "wrk → django-revproxy and every proxy → monolith open a new TCP connection per "
                  "request."]  # fmt: skip
    if results.rounds:
        parts += ["", "Alternating rounds (loaded runs only, one after the other within each round):", "",
                  rounds_table(results)]  # fmt: skip
    parts += ["", goals_table(results) if results.rows else "(no targets to check)"]
    if results.shadow:
        parts += ["", "Shadow outcomes (proxy /metrics, from the switch to shadow mode until the queue drained):"]
        parts += [f"- {line}" for line in results.shadow]
    if results.skipped:
        parts += ["", "Not measured:"] + [f"- {line}" for line in results.skipped]
    return "\n".join(parts)


# --- main -----------------------------------------------------------------------------------------------------


def find_binary(name: str, *extra_dirs: str) -> str | None:
    return shutil.which(name) or next(
        (str(Path(d, name)) for d in extra_dirs if os.access(Path(d, name), os.X_OK)), None
    )


def run_target(ctx: Context, key: str) -> None:
    print(f"{key} target ...", file=sys.stderr)
    opener = trivial_target if key == "trivial" else monolith_target
    try:
        with opener(ctx) as target:
            target_rows(ctx, target)
    except psycopg.OperationalError as exc:
        ctx.results.skipped.append(f"{key}: every row: PostgreSQL at {ctx.args.server_url} unusable: {exc}")
    except (RuntimeError, TimeoutError, OSError, httpx.HTTPError, psycopg.Error) as exc:
        ctx.results.skipped.append(f"{key}: every row: the target could not be set up: {exc}")


def benchmark(args: argparse.Namespace, workdir: Path, wrk: str) -> Context:
    script = workdir / "report.lua"
    script.write_text(support.WRK_SCRIPT)
    ctx = Context(args, workdir, support.Children(workdir), support.Wrk(wrk, script),
                  find_binary(args.nginx, "/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"))  # fmt: skip
    if ctx.nginx is None:
        ctx.results.skipped.append(f"nginx rows: {args.nginx!r} not found; install it: apt-get install -y nginx-light")
    if importlib.util.find_spec("revproxy") is None:
        ctx.results.skipped.append("django-revproxy rows: not installed; install it: .venv/bin/pip install "
                                   "-c requirements/constraints.txt -e '.[bench]'")  # fmt: skip
    try:
        for key in args.targets:
            run_target(ctx, key)
    finally:
        ctx.children.stop_all()
    return ctx


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = find_binary(args.wrk)
    if wrk is None:
        print(f"bench/proxy.py: {args.wrk!r} not found, so no row can run (every row uses wrk); install it: "
              "apt-get install -y wrk", file=sys.stderr)  # fmt: skip
        return 2
    args.wrk = wrk
    for signum in (signal.SIGTERM, signal.SIGINT):  # SIGINT too: a shell may start us with it ignored
        signal.signal(signum, raise_interrupt)
    loadavg, started = os.getloadavg(), dt.datetime.now(dt.UTC)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-proxy-") as tmp:
            ctx = benchmark(args, Path(tmp), wrk)
            print(report(ctx, loadavg, started))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0 if ctx.results.rows else 1


if __name__ == "__main__":
    sys.exit(main())
