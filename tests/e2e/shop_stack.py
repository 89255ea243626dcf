"""The whole local stack as real processes on free loopback ports, as ``make run`` starts it.

The monolith (gunicorn, relay, a worker for ``reporting`` and ``legacy-sync``), the inventory, payment and
shipment services (gunicorn, relay, worker each) and the strangler proxy in front of them, sharing one broker
(Redis with a queue prefix of their own), the proxy's state store and an internal token. Used by the migration
e2e tests and by ``bench/cutover.py``::

    with ShopStack.start(workdir, broker_url="redis://127.0.0.1:6379/0") as stack:
        stack.backfill("inventory")
        stack.flip("inventory", mode="shadow", reason="compare")
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.e2e.processes import ROOT, VENV_BIN, Process, free_port, manage, start_process, wait_until_healthy

SERVICES = {"inventory": "inventory", "payment": "payments", "shipment": "shipments"}  # name -> capability
TIMEOUT = httpx.Timeout(15.0, connect=2.0)


@dataclass
class ShopStack:
    workdir: Path
    env: dict[str, str]
    urls: dict[str, str]  # monolith, inventory, payment, shipment, proxy, admin
    admin_token: str
    processes: list[Process] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    @contextmanager
    def start(cls, workdir: Path, *, broker_url: str, monolith_workers: int = 3) -> Iterator[ShopStack]:
        stack = cls._prepare(workdir, broker_url)
        try:
            stack._launch(monolith_workers)
            yield stack
        finally:
            stack.stop()

    @classmethod
    def _prepare(cls, workdir: Path, broker_url: str) -> ShopStack:
        ports = {name: free_port() for name in ("monolith", *SERVICES, "proxy", "admin")}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(
            DATABASE_URL=f"sqlite:///{workdir / 'monolith.sqlite3'}",
            MONOLITH_BIND=f"127.0.0.1:{ports['monolith']}", MONOLITH_URL=urls["monolith"], ACCESS_LOG="0",
            EVENTS_BROKER_URL=broker_url, EVENTS_QUEUE_PREFIX=f"stack-{secrets.token_hex(4)}-",
            EVENTS_BROKER_DIR=str(workdir / "broker"),
            STRANGLER_STATE_URL=f"sqlite:///{workdir / 'proxy-state.sqlite3'}",
            STRANGLER_INTERNAL_TOKEN=secrets.token_urlsafe(24), PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING",
        )  # fmt: skip
        if broker_url.startswith("redis://"):
            env["EVENTS_WAKEUP_REDIS_URL"] = broker_url
        for name in SERVICES:
            env[f"{name.upper()}_DATABASE_URL"] = f"sqlite:///{workdir / (name + '.sqlite3')}"
            env[f"{name.upper()}_SERVICE_URL"] = urls[name]
        return cls(workdir, env, urls, admin_token=secrets.token_urlsafe(16))

    def _launch(self, monolith_workers: int) -> None:
        manage("migrate", "--noinput", "-v0", env=self.env)
        manage("seed_demo", "--stock", "200", env=self.env)
        for name in SERVICES:
            self.service_command(name, "migrate", "--noinput", "-v0")
        self.tokens = {user: manage("issue_token", user, env=self.env) for user in ("alice", "bob", "staff")}
        env = {**self.env, "WEB_CONCURRENCY": str(monolith_workers)}
        gunicorn = [str(VENV_BIN / "gunicorn"), "-c", "python:monolith.gunicorn_conf", "monolith.wsgi"]
        self._spawn("monolith", gunicorn, env, health=self.urls["monolith"] + "/healthz")
        self._spawn("relay", [sys.executable, str(ROOT / "manage.py"), "events_relay", "--name", "relay-1"], env)
        self._spawn("worker", _worker("monolith.celery", "reporting,legacy-sync", self.env), env)
        for name in SERVICES:
            port = self.urls[name].rsplit(":", 1)[1]
            server = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                      "--no-control-socket", f"extracted_services.{name}.wsgi"]  # fmt: skip
            self._spawn(name, server, self.env, health=self.urls[name] + "/healthz")
            module = f"extracted_services.{name}"
            self._spawn(f"{name}-relay", [sys.executable, "-m", module, "events_relay", "--name", f"{name}-relay"], env)
            self._spawn(f"{name}-worker", _worker(f"{module}.celery", name, self.env), self.env)
        self._spawn_proxy()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], *, health: str | None = None) -> Process:
        process = start_process(name, argv, env, self.workdir)
        self.processes.append(process)
        if health:
            try:
                wait_until_healthy(health, process.popen, deadline_s=40.0)
            except Exception:
                raise RuntimeError(f"{name} did not start; log:\n{process.log()}") from None
        return process

    def _spawn_proxy(self) -> None:
        config = yaml.safe_load((ROOT / "strangler_proxy" / "example.yaml").read_text(encoding="utf-8"))
        for name, upstream in config["upstreams"].items():
            upstream["url"] = self.urls[name]
        config["state"] = {"url": self.env["STRANGLER_STATE_URL"]}
        path = self.workdir / "proxy.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        env = {
            **self.env, "STRANGLER_ADMIN_TOKEN": self.admin_token, "LOG_LEVEL": "WARNING",
            "STRANGLER_LISTEN": self.urls["proxy"].removeprefix("http://"),
            "STRANGLER_ADMIN_LISTEN": self.urls["admin"].removeprefix("http://"),
        }  # fmt: skip
        argv = [sys.executable, "-m", "strangler_proxy", "--config", str(path)]
        process = self._spawn("proxy", argv, env, health=self.urls["admin"] + "/healthz")
        wait_until_healthy(self.urls["proxy"] + "/healthz", process.popen)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def alive(self) -> list[str]:
        """Names of processes that died."""
        return [p.name for p in self.processes if p.popen.poll() is not None]

    # --- driving it -------------------------------------------------------------------------------------------

    def service_command(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", f"extracted_services.{name}", *args],
            env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def backfill(self, name: str) -> str:
        return self.service_command(name, "backfill", "--token", self.tokens["staff"], "--no-progress").stdout

    def reconcile(self, name: str) -> tuple[int, dict[str, Any]]:
        result = self.service_command(name, "reconcile", "--token", self.tokens["staff"], "--json", check=False)
        assert result.returncode in (0, 1), result.stdout + result.stderr
        return result.returncode, json.loads(result.stdout)

    def replication(self, name: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.env['STRANGLER_INTERNAL_TOKEN']}"}
        response = httpx.get(self.urls[name] + "/internal/replication", headers=headers, timeout=TIMEOUT)
        response.raise_for_status()
        return dict(response.json())

    def admin(self, method: str, path: str, json_body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return httpx.request(method, self.urls["admin"] + path, headers=headers, json=json_body, timeout=60.0)

    def flip(self, group: str, *, reason: str, **change: Any) -> dict[str, Any]:
        response = self.admin("PATCH", f"/routes/{group}", {**change, "reason": reason})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def query(self, database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows from one process's SQLite database (``monolith`` or a service name), read only."""
        path = self.workdir / f"{database}.sqlite3"
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
            return list(conn.execute(sql, params).fetchall())


def _worker(app: str, queues: str, env: dict[str, str]) -> list[str]:
    prefixed = ",".join(env["EVENTS_QUEUE_PREFIX"] + queue for queue in queues.split(","))
    return [
        str(VENV_BIN / "celery"), "-A", app, "worker", "--queues", prefixed, "--concurrency", "2",
        "--loglevel", "WARNING", "--hostname", f"{queues.split(',')[0]}-{os.getpid()}@%h",
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
