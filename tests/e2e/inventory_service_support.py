"""The inventory service as real processes for tests: its own database, its commands, a server on a free port.

The test process runs with the monolith's settings, so the service's Django project can only be exercised from
other processes (``python -m extracted_services.inventory ...``). Tokens come from the monolith's key pair: the
service is pointed at the public key this test session's monolith uses.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from events.catalogue import Catalogue
from events.envelope import Envelope
from tests.e2e.pg_database import query as pg_query
from tests.e2e.pg_database import scratch_database
from tests.e2e.processes import ROOT, VENV_BIN, Process, free_port, start_process, wait_until_healthy

INTERNAL_TOKEN = "inventory-test-internal-token"
SERVICE = "extracted_services.inventory"


def monolith_public_key() -> Path:
    from django.conf import settings

    path: Path = settings.CONFIG.jwt_public_key_file
    return path


@contextmanager
def service_database(workdir: Path, *, postgres: bool) -> Iterator[str]:
    """A database URL of its own for the service: a SQLite file, or a scratch PostgreSQL database."""
    if postgres:
        with scratch_database("inventory_svc") as url:
            yield url
    else:
        yield f"sqlite:///{workdir / 'inventory-service.sqlite3'}"


@dataclass
class InventoryService:
    workdir: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    server: Process | None = None
    base_url: str = ""

    @classmethod
    def create(cls, workdir: Path, database_url: str, **extra_env: str) -> InventoryService:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(
            INVENTORY_DATABASE_URL=database_url, JWT_PUBLIC_KEY_FILE=str(monolith_public_key()),
            EVENTS_BROKER_URL="filesystem://", EVENTS_BROKER_DIR=str(workdir / "broker"),
            STRANGLER_INTERNAL_TOKEN=INTERNAL_TOKEN, PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING", **extra_env,
        )  # fmt: skip
        service = cls(workdir, database_url, env)
        service.run("migrate", "--noinput", "-v0")
        return service

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", SERVICE, *args]

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.argv(*args), env={**self.env, **(env or {})}, cwd=ROOT, input=stdin, capture_output=True, text=True,
            timeout=180,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def receive(self, *envelopes: Envelope, consumer: str = "inventory") -> dict[str, int]:
        lines = "".join(envelope.to_json().decode() + "\n" for envelope in envelopes)
        outcomes: dict[str, int] = json.loads(self.run("replica_receive", "--consumer", consumer, stdin=lines).stdout)
        return outcomes

    def flush(self) -> None:
        self.run("flush", "--noinput")

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.database_url.startswith("sqlite:///"):
            with closing(sqlite3.connect(self.database_url.removeprefix("sqlite:///"))) as conn:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()
        return pg_query(self.database_url, sql, *params)

    def execute(self, sql: str, *params: Any) -> None:
        """A committed write (``sql`` ends with ``RETURNING`` something: psycopg's fetch needs rows)."""
        if self.database_url.startswith("sqlite:///"):
            with closing(sqlite3.connect(self.database_url.removeprefix("sqlite:///"))) as conn, conn:
                conn.execute(sql.replace("%s", "?"), params)
        else:
            pg_query(self.database_url, sql, *params)

    def start(self) -> None:
        port = free_port()
        argv = [
            str(VENV_BIN / "uvicorn"), f"{SERVICE}.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        self.server = start_process("inventory-service", argv, self.env, self.workdir)
        self.base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(self.base_url + "/healthz", self.server.popen)
        except Exception:
            self.server.stop()
            raise RuntimeError("inventory service did not start; log:\n" + self.server.log()) from None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def event(
    event_type: str, data: dict[str, Any], *, aggregate_type: str, aggregate_id: str, sequence: int,
    source: str = "monolith/inventory",
) -> Envelope:  # fmt: skip
    return Envelope.new(
        type=event_type, source=source, subject=aggregate_id, data=data,
        dataschema=Catalogue.default().uri(event_type, 1), aggregatetype=aggregate_type, sequence=sequence,
    )  # fmt: skip


def level(warehouse: str, sku: str, on_hand: int, reserved: int, version: int) -> dict[str, Any]:
    return {"warehouse": warehouse, "sku": sku, "on_hand": on_hand, "reserved": reserved, "version": version}


def stock_adjusted(
    warehouse: str, sku: str, *, on_hand: int, reserved: int = 0, version: int, sequence: int, delta: int = 1
) -> Envelope:
    data = {"warehouse": warehouse, "sku": sku, "delta": delta, "reason": "count",
            "levels": [level(warehouse, sku, on_hand, reserved, version)]}  # fmt: skip
    return event("stock.adjusted", data, aggregate_type="stock", aggregate_id=f"{warehouse}:{sku}", sequence=sequence)


def reservation_event(
    event_type: str, reservation_id: str, *, status: str, lines: Sequence[tuple[str, str, int]],
    levels: Sequence[dict[str, Any]], sequence: int, reference: str = "order-1", warehouse: str | None = None,
) -> Envelope:  # fmt: skip
    data: dict[str, Any] = {
        "reservation_id": reservation_id, "reference": reference, "status": status,
        "lines": [{"warehouse": w, "sku": sku, "quantity": q} for w, sku, q in lines], "levels": list(levels),
    }  # fmt: skip
    if warehouse is not None:
        data["warehouse"] = warehouse
    return event(event_type, data, aggregate_type="reservation", aggregate_id=reservation_id, sequence=sequence)
