"""The proxy's state stores keep the same contract on SQLite, PostgreSQL and Redis (real servers)."""

from __future__ import annotations

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
