"""Extracted services as real processes for e2e tests: migrated SQLite database, gunicorn on a free port.

Each service verifies the tokens of the monolith started beside it with that monolith's public key alone.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.processes import ROOT, VENV_BIN, LiveMonolith, Process, free_port, start_process, wait_until_healthy

INTERNAL_TOKEN = "test-internal-" + uuid.uuid4().hex


@dataclass
class LiveService:
    name: str
    base_url: str
    env: dict[str, str]
    database: Path
    server: Process

    def manage(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """``python -m extracted_services.<name> <args>`` with the service's environment."""
        argv = [sys.executable, "-m", f"extracted_services.{self.name}", *args]
        result = subprocess.run(argv, env=self.env, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def count(self, table: str) -> int:
        return int(query_sqlite(self.database, f"SELECT COUNT(*) FROM {table}")[0][0])  # noqa: S608 - test-chosen names

    def outbox(self) -> list[dict[str, Any]]:
        rows = query_sqlite(self.database, "SELECT payload FROM events_outboxevent ORDER BY id")
        return [json.loads(payload) for (payload,) in rows]

    def stop(self) -> None:
        self.server.stop()


def query_sqlite(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as conn:
        return list(conn.execute(sql).fetchall())


def _public_key(monolith: LiveMonolith) -> str:
    return monolith.env.get("JWT_PUBLIC_KEY_FILE") or str(ROOT / "var" / "keys" / "jwt-public.pem")


def start_service(
    name: str, workdir: Path, monolith: LiveMonolith, *, extra_env: dict[str, str] | None = None
) -> LiveService:
    """Migrate a fresh SQLite database and start the service under gunicorn on a free port."""
    port = free_port()
    database = workdir / f"{name}.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": f"extracted_services.{name}.settings",
        f"{name.upper()}_DATABASE_URL": f"sqlite:///{database}",
        "JWT_PUBLIC_KEY_FILE": _public_key(monolith),
        "EVENTS_BROKER_URL": "filesystem://",
        "EVENTS_BROKER_DIR": str(workdir / "broker"),
        "MONOLITH_URL": monolith.base_url,
        "STRANGLER_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    service = LiveService(name, f"http://127.0.0.1:{port}", env, database, server=None)  # type: ignore[arg-type]
    service.manage("migrate", "--noinput", "-v0")
    argv = [
        str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-control-socket",
        f"extracted_services.{name}.wsgi",
    ]  # fmt: skip
    service.server = start_process(f"{name}-service", argv, env, workdir)
    try:
        wait_until_healthy(service.base_url + "/healthz", service.server.popen)
    except Exception:
        service.stop()
        raise RuntimeError(f"{name} service did not start; log:\n" + service.server.log()) from None
    return service
