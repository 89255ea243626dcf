"""A migrated database of its own for project processes a test starts (a consumer, a Celery worker).

The test database pytest-django makes is invisible to other processes on SQLite (it lives in memory), so these
processes get a scratch database of the same engine: a SQLite file, or a PostgreSQL database when the run is on
PostgreSQL. The test reads results back with ``query``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.pg_database import query as pg_query
from tests.e2e.pg_database import scratch_database
from tests.e2e.processes import manage


@dataclass(frozen=True)
class ProcessDatabase:
    url: str

    def env(self, **extra: str) -> dict[str, str]:
        """The environment (os.environ as it is now, so AWS settings too) for a process on this database."""
        return {**os.environ, "DATABASE_URL": self.url, "PYTHONUNBUFFERED": "1", **extra}

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.url.startswith("sqlite:///"):
            with closing(sqlite3.connect(self.url.removeprefix("sqlite:///"))) as conn:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()
        return pg_query(self.url, sql, *params)


@contextmanager
def process_database(workdir: Path, *, postgres: bool) -> Iterator[ProcessDatabase]:
    if postgres:
        with scratch_database("strangler_proc") as url:
            manage("migrate", "--noinput", "-v0", env={**os.environ, "DATABASE_URL": url})
            yield ProcessDatabase(url)
        return
    url = f"sqlite:///{workdir / 'processes.sqlite3'}"
    manage("migrate", "--noinput", "-v0", env={**os.environ, "DATABASE_URL": url})
    yield ProcessDatabase(url)
