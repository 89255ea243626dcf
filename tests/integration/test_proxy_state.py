"""The proxy's state stores keep the same contract on SQLite, PostgreSQL and Redis (real servers)."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from strangler_proxy.model import Group, Mode, Route
from strangler_proxy.state import StateStore, UnknownGroup, open_store
from tests.services import require

SERVER = "postgres://postgres@127.0.0.1:5432/"
GROUPS = [
    Group(name="inventory", service="inventory", routes=(Route(path="/a/"),), mode=Mode.SHADOW),
    Group(name="payment", service="payment", routes=(Route(path="/b/"),)),
]


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    kind = request.param
    if kind == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
        yield opened
        opened.close()
    elif kind == "postgres":
        require("PostgreSQL", "127.0.0.1", 5432)
        name = f"strangler_proxy_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(SERVER + "postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            opened = open_store(SERVER + name)
            yield opened
            opened.close()
        finally:
            with psycopg.connect(SERVER + "postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        require("Redis", "127.0.0.1", 6379)
        prefix = f"test-proxy-{uuid.uuid4().hex[:10]}:"
        opened = open_store(f"redis://127.0.0.1:6379/0?prefix={prefix}")
        yield opened
        opened.close()
        client = redis.Redis()
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)


def test_seeding_starts_new_groups_as_configured_and_keeps_existing_state(store: StateStore) -> None:
    store.seed(GROUPS)
    assert {n: (s.mode, s.percent) for n, s in store.groups().items()} == {
        "inventory": (Mode.SHADOW, 0.0),
        "payment": (Mode.MONOLITH, 0.0),
    }
    store.change("payment", mode=Mode.CANARY, percent=25, reason="ramp", who="ops", automatic=False)
    store.seed(GROUPS)  # a restart with the same config must not undo the live state
    assert (store.groups()["payment"].mode, store.groups()["payment"].percent) == (Mode.CANARY, 25.0)


def test_changes_are_audited_with_old_and_new_values(store: StateStore) -> None:
    store.seed(GROUPS)
    first = store.change("inventory", mode=Mode.CANARY, percent=10, reason="first step", who="ops", automatic=False)
    second = store.change("inventory", mode=None, percent=50, reason="more", who="ops", automatic=False)
    third = store.change("inventory", mode=Mode.MONOLITH, percent=0, reason="errors", who="automatic", automatic=True)

    assert (first.old_mode, first.new_mode, first.old_percent, first.new_percent) == ("shadow", "canary", 0.0, 10.0)
    assert (second.old_mode, second.new_mode, second.new_percent) == ("canary", "canary", 50.0)
    assert third.automatic and third.who == "automatic"
    assert [e.reason for e in store.audit(group="inventory")] == ["errors", "more", "first step"]
    assert store.audit(group="payment") == [] and len(store.audit(limit=2)) == 2
    with pytest.raises(UnknownGroup):
        store.change("nope", mode=Mode.SERVICE, percent=None, reason="x", who="ops", automatic=False)


def test_concurrent_changes_each_audit_the_value_they_replaced(store: StateStore) -> None:
    store.seed(GROUPS)
    errors: list[BaseException] = []

    def bump(n: int) -> None:
        try:
            store.change("payment", mode=Mode.CANARY, percent=n, reason=str(n), who="ops", automatic=False)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(n,)) for n in range(1, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = list(reversed(store.audit(group="payment")))
    assert [e.old_percent for e in entries[1:]] == [e.new_percent for e in entries[:-1]]  # a chain, no lost update
    assert store.groups()["payment"].percent == entries[-1].new_percent


def test_mismatches_are_kept_newest_first_up_to_the_retention(store: StateStore) -> None:
    ids = [
        store.add_mismatch("inventory", {"summary": f"m{i}", "request": {"method": "GET"}}, keep=3) for i in range(5)
    ]
    store.add_mismatch("payment", {"summary": "p"}, keep=3)
    assert [m["summary"] for m in store.mismatches(group="inventory")] == ["m4", "m3", "m2"]
    assert store.mismatch(ids[0]) is None and store.mismatch(ids[4])["summary"] == "m4"  # type: ignore[index]
    assert [m["summary"] for m in store.mismatches(limit=2)] == ["p", "m4"]
    assert store.mismatches(group="inventory", limit=1)[0]["group"] == "inventory"


def test_a_hold_round_trips_and_survives_mode_changes(store: StateStore) -> None:
    store.seed(GROUPS)
    assert {name: state.held for name, state in store.groups().items()} == {"inventory": False, "payment": False}
    assert store.hold("inventory", True) is False  # the previous value
    assert store.hold("inventory", True) is True  # a second hold sees the first: one cut-over at a time
    assert (store.groups()["inventory"].held, store.groups()["payment"].held) == (True, False)

    store.change("inventory", mode=Mode.CANARY, percent=5, reason="ramp", who="ops", automatic=False)
    assert store.groups()["inventory"].held is True, "a change that does not name held keeps it"
    entry = store.change("inventory", mode=Mode.SERVICE, percent=None, reason="cut over", who="ops", automatic=False,
                         held=False)  # fmt: skip
    state = store.groups()["inventory"]
    assert (state.mode, state.percent, state.held) == (Mode.SERVICE, 5.0, False)
    assert (entry.old_mode, entry.new_mode, entry.reason) == ("canary", "service", "cut over")
    assert [e.reason for e in store.audit(group="inventory")] == ["cut over", "ramp"]  # hold() is not audited
    assert store.hold("inventory", False) is False
    with pytest.raises(UnknownGroup):
        store.hold("nope", True)


_OLD_SQL_SCHEMA = [  # the state tables as the first version created them (no "held")
    "CREATE TABLE proxy_group_state (name VARCHAR(100) PRIMARY KEY, mode VARCHAR(16) NOT NULL, "
    "percent DOUBLE PRECISION NOT NULL, updated_at VARCHAR(40) NOT NULL)",
    "CREATE TABLE proxy_audit (id {serial}, at VARCHAR(40) NOT NULL, who VARCHAR(100) NOT NULL, "
    "group_name VARCHAR(100) NOT NULL, old_mode VARCHAR(16) NOT NULL, new_mode VARCHAR(16) NOT NULL, "
    "old_percent DOUBLE PRECISION NOT NULL, new_percent DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL, "
    "automatic BOOLEAN NOT NULL)",
    "INSERT INTO proxy_group_state VALUES ('payment', 'canary', 30.0, '2025-01-01T00:00:00.000Z')",
    "INSERT INTO proxy_audit (at, who, group_name, old_mode, new_mode, old_percent, new_percent, reason, automatic) "
    "VALUES ('2025-01-01T00:00:00.000Z', 'ops', 'payment', 'monolith', 'canary', 0, 30, 'ramp', {false})",
]


def _upgraded(url: str) -> None:
    """Open a store on an old database (twice: the second open finds nothing to do) and check nothing was lost."""
    for _ in range(2):
        opened = open_store(url)
        try:
            state = opened.groups()["payment"]
            assert (state.mode, state.percent, state.held) == (Mode.CANARY, 30.0, False)
            assert [e.reason for e in opened.audit(group="payment")] == ["ramp"]
            opened.hold("payment", True)
            assert opened.groups()["payment"].held is True
            opened.hold("payment", False)
        finally:
            opened.close()


def test_an_sqlite_state_database_of_the_old_schema_is_upgraded_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        for statement in _OLD_SQL_SCHEMA:
            old.execute(statement.format(serial="INTEGER PRIMARY KEY AUTOINCREMENT", false="0"))
    _upgraded(f"sqlite:///{path}")
    with sqlite3.connect(path) as upgraded:
        assert "held" in {row[1] for row in upgraded.execute("PRAGMA table_info(proxy_group_state)")}


def test_a_postgresql_state_database_of_the_old_schema_is_upgraded_when_opened() -> None:
    require("PostgreSQL", "127.0.0.1", 5432)
    name = f"strangler_proxy_old_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER + "postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(SERVER + name, autocommit=True) as old:
            for statement in _OLD_SQL_SCHEMA:
                old.execute(statement.format(serial="BIGSERIAL PRIMARY KEY", false="false"))  # type: ignore[arg-type]
        _upgraded(SERVER + name)
    finally:
        with psycopg.connect(SERVER + "postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_redis_group_state_written_without_held_reads_as_not_held() -> None:
    require("Redis", "127.0.0.1", 6379)
    prefix = f"test-proxy-{uuid.uuid4().hex[:10]}:"
    client = redis.Redis(decode_responses=True)
    old_value = {"mode": "canary", "percent": 30.0, "updated_at": "2025-01-01T00:00:00.000Z"}
    client.hset(f"{prefix}groups", "payment", json.dumps(old_value))
    opened = open_store(f"redis://127.0.0.1:6379/0?prefix={prefix}")
    try:
        state = opened.groups()["payment"]
        assert (state.mode, state.percent, state.held) == (Mode.CANARY, 30.0, False)
        opened.change("payment", mode=None, percent=40, reason="more", who="ops", automatic=False)
        assert opened.groups()["payment"].held is False
        assert opened.hold("payment", True) is False
        assert opened.groups()["payment"].held is True
    finally:
        opened.close()
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
