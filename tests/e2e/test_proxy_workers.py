"""``python -m strangler_proxy --workers 2``: two real worker processes on one port, supervised.

The stand-in plays both sides: the proxy's ``X-Strangler-Upstream`` header says which upstream served. Workers
are told apart by stopping one (SIGSTOP): every new connection then reaches the other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.processes import free_port, wait_for
from tests.e2e.proxy_support import TIMEOUT, LiveProxy, StandIn, start_proxy, start_stand_in, write_proxy_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

STOCK = "/api/inventory/stock/MUG-LOGO/"


@dataclass
class Workers:
    proxy: LiveProxy
    stand_in: StandIn

    def pids(self) -> list[int]:
        """The worker processes: children of the proxy started by multiprocessing's spawn (not its resource
        tracker). ``-ww``: without it ps cuts the command line at 80 columns when not writing to a terminal."""
        out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(self.proxy.process.popen.pid)],
                             capture_output=True, text=True, check=False).stdout  # fmt: skip
        return [int(line.split()[0]) for line in out.splitlines() if "multiprocessing.spawn" in line]

    def served_by(self, count: int) -> list[str]:
        """``count`` requests, each on a new connection: the upstream that served each."""
        upstreams = []
        for _ in range(count):
            with httpx.Client(timeout=TIMEOUT) as client:
                response = client.get(self.proxy.base_url + STOCK)
            assert response.status_code == 200, response.text
            upstreams.append(response.headers["x-strangler-upstream"])
        return upstreams

    def requests_counted(self, upstream: str) -> float:
        response = self.proxy.admin("GET", "/metrics")
        assert response.status_code == 200, response.text
        return sum(
            sample.value
            for family in text_string_to_metric_families(response.text)
            if family.name == "strangler_proxy_requests"
            for sample in family.samples
            if sample.name == "strangler_proxy_requests_total" and sample.labels["upstream"] == upstream
        )


@pytest.fixture
def workers() -> Iterator[Workers]:
    workdir = Path(tempfile.mkdtemp(prefix="proxy-workers-"))
    stand_in = start_stand_in(workdir)
    config = write_proxy_config(
        workdir / "proxy.yaml", monolith_url=stand_in.base_url, stand_in_url=stand_in.base_url,
        closed_url=f"http://127.0.0.1:{free_port()}", state_path=workdir / "state.sqlite3", tokens={},
        max_body_bytes=4096,
    )  # fmt: skip
    proxy = start_proxy("proxy-workers", config, workdir, admin_token=secrets.token_urlsafe(24),
                        extra_args=("--workers", "2"))  # fmt: skip
    try:
        wait_for("both workers to serve", lambda: "all 2 workers serving" in proxy.process.log(), deadline_s=20.0)
        yield Workers(proxy, stand_in)
    finally:
        for pid in Workers(proxy, stand_in).pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)  # a test that failed while one was stopped
        proxy.stop()
        stand_in.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_two_workers_share_the_port_follow_a_flip_and_the_metrics_add_up(workers: Workers) -> None:
    pids = workers.pids()
    assert len(pids) == 2, workers.proxy.process.log()
    workers.proxy.flip("inventory", mode="service", reason="e2e: workers")
    time.sleep(1.0)  # "a change reaches every instance within one second"
    admin_worker, other = sorted(pids)  # worker 0 (the admin API's) was started first
    os.kill(admin_worker, signal.SIGSTOP)
    try:
        served = workers.served_by(20)  # all on the other worker: the stopped one cannot accept
    finally:
        os.kill(admin_worker, signal.SIGCONT)
    assert served == ["inventory"] * 20
    served += workers.served_by(20)
    assert served == ["inventory"] * 40
    # The admin API runs in worker 0, yet counts what worker 1 served.
    wait_for("the metrics to count 40 requests served by the service",
             lambda: workers.requests_counted("inventory") == 40, deadline_s=5.0)  # fmt: skip


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_them_all(workers: Workers) -> None:
    first, second = sorted(workers.pids())
    os.kill(second, signal.SIGKILL)
    wait_for("a new worker in place of the killed one",
             lambda: len(workers.pids()) == 2 and second not in workers.pids(), deadline_s=20.0,
             progress=lambda: f"workers {workers.pids()}; log:\n{workers.proxy.process.log()}")  # fmt: skip
    assert first in workers.pids()
    os.kill(first, signal.SIGSTOP)  # only the new worker accepts now
    try:
        assert workers.served_by(5) == ["monolith"] * 5
    finally:
        os.kill(first, signal.SIGCONT)
    assert "worker 1 exited with status -9: starting a new one" in workers.proxy.process.log()

    survivors = workers.pids()
    workers.proxy.process.popen.send_signal(signal.SIGTERM)  # the parent alone: it stops the workers
    assert workers.proxy.process.popen.wait(timeout=30) == 0
    for pid in survivors:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
