"""Pieces of bench/proxy.py: child processes that die with the benchmark, wrk, CPU accounting, configs, tables.

Every server the benchmark starts runs in its own session (process group) with ``PR_SET_PDEATHSIG`` set to
SIGTERM, so it is stopped by the benchmark's cleanup and, if the benchmark itself is killed, by the kernel.
CPU is counted per process group (utime + stime of every process in it, from /proc), which covers gunicorn's
and nginx's workers as well as a single uvicorn process and its threads.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench._common import stop_group

ROOT = Path(__file__).resolve().parents[1]
STOP_DEADLINE_S = 20.0  # above gunicorn's graceful_timeout (10 s)
PR_SET_PDEATHSIG = 1

# wrk prints its own summary; this adds one machine-readable line with exact figures (latency in µs).
WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


# --- child processes ------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """preexec_fn: the kernel sends SIGTERM to the child when the benchmark dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Children:
    """Every process the benchmark started, so that all are stopped whatever happens."""

    workdir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(
        self, argv: Sequence[str], log: str, env: Mapping[str, str] | None = None, cwd: Path = ROOT
    ) -> subprocess.Popen[bytes]:
        with (self.workdir / log).open("ab") as out:
            proc = subprocess.Popen(
                list(argv), env=dict(env if env is not None else os.environ), cwd=cwd, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        self.procs.append(proc)
        return proc

    def log(self, name: str, tail: int = 3000) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        stop_group(proc, STOP_DEADLINE_S)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def wait_http(url: str, procs: Sequence[subprocess.Popen[bytes]], what: str, deadline_s: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; fail early when one of ``procs`` exits."""
    deadline = time.monotonic() + deadline_s
    last = "no answer"
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited with status {proc.returncode} before answering {url}")
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return
            last = f"status {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    raise TimeoutError(f"{what}: {url} not answering 200 within {deadline_s:.0f} s ({last})")


# --- CPU ------------------------------------------------------------------------------------------------------


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process in process group ``pgid`` (threads included), from /proc."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:  # field 5 of stat, the process group
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


# --- wrk ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors (connect, read, write, timeout) plus non-2xx/3xx answers
    error_detail: str
    cpu_seconds: float | None = None  # of the measured process group over the run
    machine_busy: float | None = None  # share of all cores busy over the run (everything on the machine)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse_wrk(output: str) -> WrkRun:
    for line in output.splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line.removeprefix("WRKJSON "))
            kinds = ("connect", "read", "write", "timeout", "status")
            detail = ", ".join(f"{kind} {raw[kind]}" for kind in kinds if raw[kind])
            return WrkRun(
                requests=raw["requests"], seconds=raw["duration_us"] / 1e6, p50_ms=raw["p50_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000, errors=sum(raw[kind] for kind in kinds), error_detail=detail,
            )  # fmt: skip
    raise RuntimeError(f"wrk printed no WRKJSON line:\n{output[-2000:]}")


@dataclass(frozen=True)
class Wrk:
    binary: str
    script: Path

    def run(self, url: str, *, threads: int, connections: int, seconds: int, pgid: int | None = None) -> WrkRun:
        """One wrk run; with ``pgid``, also that process group's CPU seconds over it."""
        argv = [self.binary, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s",
                "--timeout", "5s", "--latency", "-s", str(self.script), url]  # fmt: skip
        cpu_before = group_cpu_seconds(pgid) if pgid else None
        busy_before = machine_cpu()
        try:
            result = subprocess.run(
                argv, capture_output=True, text=True, timeout=seconds + 30, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with_parent,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"wrk did not finish within {seconds + 30:.0f} s: {' '.join(argv)}") from None
        busy_after = machine_cpu()
        cpu = group_cpu_seconds(pgid) - cpu_before if pgid and cpu_before is not None else None
        if result.returncode != 0:
            said = next((line.strip() for line in (result.stderr + result.stdout).splitlines() if line.strip()), "")
            raise RuntimeError(f"wrk failed ({result.returncode}): {said} ({' '.join(argv)})")
        run = parse_wrk(result.stdout)
        total = busy_after[1] - busy_before[1]
        busy = (busy_after[0] - busy_before[0]) / total if total > 0 else None
        return WrkRun(**{**run.__dict__, "cpu_seconds": cpu, "machine_busy": busy})


# --- configs --------------------------------------------------------------------------------------------------

BENCH_PATH = "/api/inventory/stock/MUG-LOGO/"
ROUTE = "/api/inventory/stock/<str:sku>/"


def proxy_config(*, target: str, service: str, listen: int, admin: int, state: Path, pool: int) -> str:
    """The strangler proxy's YAML: one group ``bench`` whose route covers the measured path."""
    return f"""\
upstreams:
  monolith: {{url: "{target}", timeouts: {{connect: 1, read: 10}}, pool: {pool}}}
  service: {{url: "{service}", timeouts: {{connect: 1, read: 5}}, pool: {pool}}}
monolith: monolith
listen: "127.0.0.1:{listen}"
admin: {{listen: "127.0.0.1:{admin}"}}
state: {{url: "sqlite:///{state}"}}
groups:
  bench:
    service: service
    mode: monolith
    shadow: {{writes: skip, sample_rate: 1.0, queue: 1000, timeout: 2, ignore_headers: [date, server, x-request-id]}}
    routes:
      - {{path: "{ROUTE}", methods: [GET]}}
"""


def nginx_config(*, workdir: Path, listen: int, upstream_port: int, keepalive: int) -> str:
    """What the strangler proxy does, in nginx: keep-alive pool, HTTP/1.1, X-Forwarded-*, X-Request-ID."""
    # As root the workers would run as "nobody" and could not reach the private temp directory.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = " ".join(f"{kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                          "scgi"))  # fmt: skip
    return f"""\
daemon off;
master_process on;
worker_processes 1;  # one process, like the strangler proxy
{user}
pid {workdir / "nginx.pid"};
lock_file {workdir / "nginx.lock"};
error_log {workdir / "nginx-error.log"} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  {temp}
  map $http_x_request_id $bench_request_id {{ "" $request_id; default $http_x_request_id; }}
  upstream target {{ server 127.0.0.1:{upstream_port}; keepalive {keepalive}; }}
  server {{
    listen 127.0.0.1:{listen} backlog=1024;
    location / {{
      proxy_pass http://target;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host 127.0.0.1:{upstream_port};
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Request-ID $bench_request_id;
      proxy_hide_header X-Request-ID;
      add_header X-Request-ID $bench_request_id always;
      proxy_connect_timeout 1s;
      proxy_read_timeout 10s;
    }}
  }}
}}
"""


# --- the proxy's admin API ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Admin:
    url: str
    token: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def set_mode(self, group: str, mode: str, reason: str) -> None:
        body = {"mode": mode, "reason": reason}
        response = httpx.patch(f"{self.url}/routes/{group}", json=body, headers=self._headers(), timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"PATCH /routes/{group} -> {response.status_code}: {response.text[:300]}")

    def mode(self, group: str) -> str:
        response = httpx.get(f"{self.url}/routes/{group}", headers=self._headers(), timeout=10)
        response.raise_for_status()
        return str(response.json().get("mode"))

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of /metrics, keyed by (sample name, sorted labels)."""
        response = httpx.get(f"{self.url}/metrics", headers=self._headers(), timeout=10)
        response.raise_for_status()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }


def metric(samples: Mapping[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """Sum of the samples named ``name`` whose labels include ``labels``."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def wait_until(condition: Callable[[], bool], deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


# --- report ---------------------------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = (c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right, strict=True))
    return "\n".join([line(header), rule + "|", *(line(row) for row in rows)])


def command_version(argv: Sequence[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return "?"
    text = (result.stdout + result.stderr).strip().splitlines()
    return text[0] if text else "?"


def git(*args: str) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "?"
    return result.stdout.strip() if result.returncode == 0 else "?"


def python_command() -> str:
    return " ".join([Path(sys.executable).relative_to(ROOT).as_posix() if sys.executable.startswith(str(ROOT))
                     else sys.executable, *sys.argv])  # fmt: skip
