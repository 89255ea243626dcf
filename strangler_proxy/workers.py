"""Several worker processes on one port: ``python -m strangler_proxy --workers N``.

One Python process tops out at one core (docs/benchmarks.md, "Proxy"); like nginx's ``worker_processes``, the
proxy can run N workers that accept from the same listening socket. The parent binds both sockets (so a port in
use is reported once, before anything starts), starts the workers with ``spawn`` and supervises them:

- every worker serves the public port; worker 0 also serves the admin API;
- the workers share the live state through the state store, as separate instances do (a change reaches each
  within a second), and their Prometheus metrics through ``PROMETHEUS_MULTIPROC_DIR`` (a private directory the
  parent creates and removes), so the admin API's ``/metrics`` counts every worker's requests;
- circuit breakers, rollback windows and shadow queues are per worker, as they are per instance;
- a worker that dies after it was serving is replaced; one that dies before it served (its configuration or its
  store is broken: restarting would only loop) stops the proxy with status 1;
- SIGTERM or SIGINT stops the workers gracefully (uvicorn's shutdown), then the parent exits.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

from prometheus_client import multiprocess

logger = logging.getLogger("strangler_proxy")

STOP_SECONDS = 15.0
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, inheritable by the workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Starts ``count`` processes running ``target(index, ready, *args)``, replaces those that die once serving,
    stops them all. ``ready`` is an event the target sets when it serves."""

    def __init__(self, count: int, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.count, self.target, self.args = count, target, args
        self.context = multiprocessing.get_context("spawn")
        self.processes: dict[int, tuple[BaseProcess, Any]] = {}
        self.stopping = False

    def run(self) -> int:
        metrics_dir = tempfile.mkdtemp(prefix="strangler-proxy-metrics-")
        previous = os.environ.get(MULTIPROC_ENV)
        os.environ[MULTIPROC_ENV] = metrics_dir  # read by prometheus_client when each worker imports it
        handlers = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for index in range(self.count):
                self._start(index)
            return self._watch(metrics_dir)
        finally:
            self._stop_all()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            if previous is None:
                os.environ.pop(MULTIPROC_ENV, None)
            else:
                os.environ[MULTIPROC_ENV] = previous
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _start(self, index: int) -> None:
        ready = self.context.Event()
        process = self.context.Process(target=self.target, args=(index, ready, *self.args), name=f"worker-{index}")
        process.start()
        self.processes[index] = (process, ready)
        logger.info("worker %d started (pid %s)", index, process.pid)

    def _watch(self, metrics_dir: str) -> int:
        announced = False
        while not self.stopping:
            time.sleep(0.2)
            if not announced and all(ready.is_set() for _, ready in self.processes.values()):
                logger.info("all %d workers serving", self.count)
                announced = True
            for index, (process, ready) in list(self.processes.items()):
                if process.is_alive() or self.stopping:
                    continue
                _forget(metrics_dir, process.pid)
                if not ready.is_set():
                    logger.error("worker %d exited with status %s while starting: stopping", index, process.exitcode)
                    return 1
                logger.warning("worker %d exited with status %s: starting a new one", index, process.exitcode)
                self._start(index)
        return 0

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        for process, _ in self.processes.values():
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # uvicorn's graceful shutdown in each worker
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def _forget(metrics_dir: str, pid: int | None) -> None:
    """A dead worker's live gauges (queue length, held, breaker) no longer hold: drop them; counters stay."""
    if pid is None:
        return
    multiprocess.mark_process_dead(pid, metrics_dir)  # type: ignore[no-untyped-call]
