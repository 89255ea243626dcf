"""The local default stack (make run): SQLite, the filesystem broker, monolith + relay + worker processes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import LiveMonolith, Process, relay_argv, start_monolith, start_process, wait_for, worker_argv

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveMonolith, list[Process]]]:
    monkeypatch.setenv("EVENTS_BROKER_URL", "filesystem://")
    monkeypatch.setenv("EVENTS_BROKER_DIR", str(tmp_path / "broker"))
    monolith = start_monolith(tmp_path)
    processes = [
        start_process("relay", relay_argv("relay-local"), monolith.env, tmp_path),
        start_process("worker", worker_argv("reporting", concurrency=1), monolith.env, tmp_path),
    ]
    try:
        yield monolith, processes
    finally:
        for process in processes:
            process.stop()
        monolith.stop()


def sales(db: str, sku: str) -> tuple[int, int] | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT units, orders FROM reporting_skusales WHERE sku = ?", [sku]).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def test_an_order_placed_over_http_reaches_the_reporting_consumer(
    stack: tuple[LiveMonolith, list[Process]],
) -> None:
    monolith, processes = stack
    headers = {"Authorization": f"Bearer {monolith.token('alice')}"}
    body = {"lines": [{"sku": "CAP-NAVY", "quantity": 2}], "payment": {"card_token": "tok_visa"}}
    for _ in range(3):
        assert httpx.post(f"{monolith.base_url}/api/orders/", json=body, headers=headers).status_code == 201

    db = monolith.env["DATABASE_URL"].removeprefix("sqlite:///")
    wait_for("the reporting read model to count 3 orders", lambda: sales(db, "CAP-NAVY") == (6, 3), deadline_s=60)
    assert all(p.popen.poll() is None for p in processes), "relay and worker keep running"
