"""Real processes on loopback for end-to-end tests: a free port, a server started and stopped cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(*args: str, env: Mapping[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=dict(env), cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before becoming healthy")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not healthy after {deadline_s}s")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_process(name: str, argv: list[str], env: Mapping[str, str], workdir: Path) -> Process:
    """Start ``argv`` in its own process group (so kill reaches its children), logging to workdir/<name>.log."""
    log_path = workdir / f"{name}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
    popen = subprocess.Popen(
        argv, env=dict(env), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Process(name, popen, log_path)


@dataclass
class LiveMonolith:
    base_url: str
    env: dict[str, str]
    server: Process

    def token(self, username: str) -> str:
        return manage("issue_token", username, env=self.env)

    def stop(self) -> None:
        self.server.stop()


def start_monolith(
    workdir: Path, *, database_url: str | None = None, workers: int = 2, extra_env: Mapping[str, str] | None = None
) -> LiveMonolith:
    """Migrate and seed a fresh database, then start the monolith under gunicorn on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url or f"sqlite:///{workdir / 'monolith.sqlite3'}",
        "MONOLITH_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "ACCESS_LOG": "0",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    manage("migrate", "--noinput", "-v0", env=env)
    manage("seed_demo", env=env)
    argv = [str(VENV_BIN / "gunicorn"), "-c", "python:monolith.gunicorn_conf", "monolith.wsgi"]
    server = start_process("gunicorn", argv, env, workdir)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url + "/healthz", server.popen)
    except Exception:
        server.stop()
        raise RuntimeError("monolith did not start; log:\n" + server.log()) from None
    return LiveMonolith(base_url, env, server)


def relay_argv(name: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), "events_relay", "--name", name]


def worker_argv(queue: str, concurrency: int = 2) -> list[str]:
    return [
        str(VENV_BIN / "celery"), "-A", "monolith.celery", "worker", "--queues", queue, "--concurrency",
        str(concurrency), "--loglevel", "WARNING", "--hostname", f"{queue}-{os.getpid()}@%h", "--without-heartbeat",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip


def wait_for(
    what: str,
    predicate: Callable[[], bool],
    deadline_s: float,
    interval: float = 0.2,
    progress: Callable[[], str] | None = None,
) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    state = f" ({progress()})" if progress else ""
    raise TimeoutError(f"timed out after {deadline_s:.0f}s waiting for {what}{state}")
