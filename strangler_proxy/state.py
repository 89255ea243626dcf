"""The live state every proxy instance shares: each group's mode and percent, the audit log, stored mismatches.

::

    store = open_store("sqlite:///var/proxy-state.sqlite3")   # or postgres://…, redis://…/0?prefix=…
    store.seed(config.groups.values())          # groups new to the store start as the config says
    store.groups()                               # {"inventory": GroupState(mode="shadow", percent=0.0, ...)}
    store.change("inventory", mode=Mode.CANARY, percent=10, reason="ramp", who="ops", automatic=False)
    store.hold("inventory", True)                # park the group's writes on every instance (the cut-over barrier)

It is the proxy's own database, never the monolith's. Instances poll ``groups()`` (a few rows) every quarter
second, so a change reaches all of them well within a second. Calls block: the proxy runs them in a thread.
A change is one transaction: the audit entry records exactly the old and new values it replaced.

A state database made by an earlier version (without the ``held`` column) is upgraded in place when opened.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from strangler_proxy.model import Group, Mode


@dataclass(frozen=True)
class GroupState:
    mode: Mode
    percent: float
    updated_at: str
    held: bool = False  # the group's unsafe requests are parked (a cut-over is running)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    who: str
    group: str
    old_mode: str
    new_mode: str
    old_percent: float
    new_percent: float
    reason: str
    automatic: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class UnknownGroup(KeyError):
    pass


# Columns added since the first version, as (table, column, definition): added in place when missing.
_ADDED_COLUMNS = [("proxy_group_state", "held", "BOOLEAN NOT NULL DEFAULT FALSE")]

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS proxy_group_state (name VARCHAR(100) PRIMARY KEY, mode VARCHAR(16) NOT NULL, "
    "percent DOUBLE PRECISION NOT NULL, updated_at VARCHAR(40) NOT NULL, held BOOLEAN NOT NULL DEFAULT FALSE)",
    "CREATE TABLE IF NOT EXISTS proxy_audit (id {serial}, at VARCHAR(40) NOT NULL, who VARCHAR(100) NOT NULL, "
    "group_name VARCHAR(100) NOT NULL, old_mode VARCHAR(16) NOT NULL, new_mode VARCHAR(16) NOT NULL, "
    "old_percent DOUBLE PRECISION NOT NULL, new_percent DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL, "
    "automatic BOOLEAN NOT NULL)",
    "CREATE TABLE IF NOT EXISTS proxy_mismatch (id {serial}, at VARCHAR(40) NOT NULL, group_name VARCHAR(100) "
    "NOT NULL, record TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS proxy_mismatch_group ON proxy_mismatch (group_name, id)",
]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SqlStore:
    """SQLite (``sqlite:///path``) or PostgreSQL (``postgres://…``) through DB-API, one connection, serialised."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        scheme = urlsplit(url).scheme
        if scheme == "sqlite":
            path = Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url[len("sqlite://") :])
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            self._conn: Any = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._param, self._serial, self._postgres = "?", "INTEGER PRIMARY KEY AUTOINCREMENT", False
        else:
            import psycopg

            self._conn = psycopg.connect(url, autocommit=True)
            self._param, self._serial, self._postgres = "%s", "BIGSERIAL PRIMARY KEY", True
        with self._lock:
            for statement in _SCHEMA:
                self._conn.execute(statement.format(serial=self._serial))
            self._upgrade()

    def _upgrade(self) -> None:
        for table, column, definition in _ADDED_COLUMNS:
            if self._postgres:
                found = self._conn.execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %s AND column_name = %s",
                    (table, column),
                ).fetchone()
                if found is None:  # IF NOT EXISTS: another instance may be upgrading at the same moment
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {definition}")
                continue
            names = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})").fetchall()}
            if column not in names:
                try:
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
                except sqlite3.OperationalError as exc:  # another instance added it since we looked
                    if "duplicate column" not in str(exc):
                        raise

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self._param)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            self._conn.execute("BEGIN" if self._postgres else "BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(self._sql(sql), tuple(params)).fetchall())

    def seed(self, groups: Iterable[Group]) -> None:
        """Add groups the store does not know yet, as the config starts them; existing state is kept."""
        conflict = "ON CONFLICT (name) DO NOTHING"
        with self._transaction() as conn:
            for group in groups:
                conn.execute(
                    self._sql(f"INSERT INTO proxy_group_state (name, mode, percent, updated_at) VALUES (?, ?, ?, ?) "
                              f"{conflict}"),
                    (group.name, str(group.mode), float(group.percent), _now()),
                )  # fmt: skip

    def groups(self) -> dict[str, GroupState]:
        rows = self._rows("SELECT name, mode, percent, updated_at, held FROM proxy_group_state")
        return {name: GroupState(Mode(mode), float(percent), updated, bool(held))
                for name, mode, percent, updated, held in rows}  # fmt: skip

    def hold(self, group: str, held: bool) -> bool:
        """Set or clear the group's hold; returns the previous value. Raises ``UnknownGroup``. Not audited: the
        cut-over's own entry covers it."""
        lock = " FOR UPDATE" if self._postgres else ""
        with self._transaction() as conn:
            row = conn.execute(
                self._sql("SELECT held FROM proxy_group_state WHERE name = ?" + lock), (group,)
            ).fetchone()
            if row is None:
                raise UnknownGroup(group)
            conn.execute(self._sql("UPDATE proxy_group_state SET held = ? WHERE name = ?"), (held, group))
        return bool(row[0])

    def change(
        self,
        group: str,
        *,
        mode: Mode | None,
        percent: float | None,
        reason: str,
        who: str,
        automatic: bool,
        held: bool | None = None,
    ) -> AuditEntry:
        """Set a group's mode and/or percent (and its hold, when ``held`` is given, in the same transaction);
        raises ``UnknownGroup``. Audited even when nothing changes."""
        lock = " FOR UPDATE" if self._postgres else ""
        at = _now()
        with self._transaction() as conn:
            row = conn.execute(
                self._sql("SELECT mode, percent FROM proxy_group_state WHERE name = ?" + lock), (group,)
            ).fetchone()
            if row is None:
                raise UnknownGroup(group)
            old_mode, old_percent = Mode(row[0]), float(row[1])
            new_mode, new_percent = mode or old_mode, old_percent if percent is None else float(percent)
            conn.execute(
                self._sql("UPDATE proxy_group_state SET mode = ?, percent = ?, updated_at = ? WHERE name = ?"),
                (str(new_mode), new_percent, at, group),
            )
            if held is not None:
                conn.execute(self._sql("UPDATE proxy_group_state SET held = ? WHERE name = ?"), (held, group))
            cursor = conn.execute(
                self._sql(
                    "INSERT INTO proxy_audit (at, who, group_name, old_mode, new_mode, old_percent, new_percent, "
                    "reason, automatic) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
                ),
                (at, who, group, str(old_mode), str(new_mode), old_percent, new_percent, reason, automatic),
            )
            (entry_id,) = cursor.fetchone()
        return AuditEntry(int(entry_id), at, who, group, str(old_mode), str(new_mode), old_percent, new_percent,
                          reason, automatic)  # fmt: skip

    def audit(self, *, group: str | None = None, limit: int = 100) -> list[AuditEntry]:
        where, params = ("WHERE group_name = ?", [group]) if group else ("", [])
        rows = self._rows(
            "SELECT id, at, who, group_name, old_mode, new_mode, old_percent, new_percent, reason, automatic "
            f"FROM proxy_audit {where} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return [AuditEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], float(r[6]), float(r[7]), r[8], bool(r[9]))
                for r in rows]  # fmt: skip

    def add_mismatch(self, group: str, record: dict[str, Any], *, keep: int) -> int:
        """Store a mismatch (already redacted) and trim the group's oldest beyond ``keep``."""
        with self._transaction() as conn:
            cursor = conn.execute(
                self._sql("INSERT INTO proxy_mismatch (at, group_name, record) VALUES (?, ?, ?) RETURNING id"),
                (_now(), group, json.dumps(record, separators=(",", ":"))),
            )
            (mismatch_id,) = cursor.fetchone()
            conn.execute(
                self._sql(
                    "DELETE FROM proxy_mismatch WHERE group_name = ? AND id <= ("
                    "SELECT id FROM proxy_mismatch WHERE group_name = ? ORDER BY id DESC LIMIT 1 OFFSET ?)"
                ),
                (group, group, keep),
            )
        return int(mismatch_id)

    def mismatches(self, *, group: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, params = ("WHERE group_name = ?", [group]) if group else ("", [])
        rows = self._rows(
            f"SELECT id, at, group_name, record FROM proxy_mismatch {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [{"id": int(r[0]), "at": r[1], "group": r[2], **json.loads(r[3])} for r in rows]

    def mismatch(self, mismatch_id: int) -> dict[str, Any] | None:
        rows = self._rows("SELECT id, at, group_name, record FROM proxy_mismatch WHERE id = ?", [mismatch_id])
        return (
            {"id": int(rows[0][0]), "at": rows[0][1], "group": rows[0][2], **json.loads(rows[0][3])} if rows else None
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()


# change(): read the old values, write the new ones and append the audit entry, atomically.
_CHANGE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return nil end
local old = cjson.decode(raw)
local held = old.held == true
if ARGV[8] ~= '' then held = ARGV[8] == '1' end
local new = {mode = ARGV[2] ~= '' and ARGV[2] or old.mode, percent = ARGV[3] ~= '' and tonumber(ARGV[3]) or old.percent,
             updated_at = ARGV[4], held = held}
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(new))
local id = redis.call('INCR', KEYS[3])
local entry = cjson.encode({id = id, at = ARGV[4], who = ARGV[5], group = ARGV[1], old_mode = old.mode,
  new_mode = new.mode, old_percent = old.percent, new_percent = new.percent, reason = ARGV[6],
  automatic = ARGV[7] == '1'})
redis.call('LPUSH', KEYS[2], entry)
return entry
"""

# hold(): set the held flag inside the group's JSON value, returning the previous one ('1' or '0').
_HOLD = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return nil end
local state = cjson.decode(raw)
local previous = state.held == true
state.held = ARGV[2] == '1'
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(state))
return previous and '1' or '0'
"""


class RedisStore:
    """Redis (``redis://host:port/db?prefix=…``): a hash of group states, a list for the audit log, and one list of
    mismatch ids per group (plus one for all) pointing at one key per mismatch."""

    def __init__(self, url: str) -> None:
        from urllib.parse import parse_qs

        import redis

        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.prefix = query.pop("prefix", ["strangler-proxy:"])[0]
        rest = "&".join(f"{k}={v[-1]}" for k, v in query.items())
        self._redis: Any = redis.Redis.from_url(
            parts._replace(query=rest).geturl(), socket_timeout=5, decode_responses=True
        )
        self._change = self._redis.register_script(_CHANGE)
        self._hold = self._redis.register_script(_HOLD)

    def _key(self, name: str) -> str:
        return self.prefix + name

    def seed(self, groups: Iterable[Group]) -> None:
        pipe = self._redis.pipeline()
        for group in groups:
            state = {"mode": str(group.mode), "percent": float(group.percent), "updated_at": _now(), "held": False}
            pipe.hsetnx(self._key("groups"), group.name, json.dumps(state))
        pipe.execute()

    def groups(self) -> dict[str, GroupState]:
        raw = self._redis.hgetall(self._key("groups"))
        found = {name: json.loads(value) for name, value in raw.items()}
        # A state written by an earlier version has no "held": not held.
        return {n: GroupState(Mode(v["mode"]), float(v["percent"]), v["updated_at"], v.get("held") is True)
                for n, v in found.items()}  # fmt: skip

    def hold(self, group: str, held: bool) -> bool:
        previous = self._hold(keys=[self._key("groups")], args=[group, "1" if held else "0"])
        if previous is None:
            raise UnknownGroup(group)
        return bool(previous == "1")

    def change(
        self,
        group: str,
        *,
        mode: Mode | None,
        percent: float | None,
        reason: str,
        who: str,
        automatic: bool,
        held: bool | None = None,
    ) -> AuditEntry:
        keys = [self._key("groups"), self._key("audit"), self._key("audit:id")]
        args = [group, str(mode) if mode else "", "" if percent is None else repr(float(percent)), _now(), who, reason,
                "1" if automatic else "0", "" if held is None else "1" if held else "0"]  # fmt: skip
        raw = self._change(keys=keys, args=args)
        if raw is None:
            raise UnknownGroup(group)
        return _audit_entry(json.loads(raw))

    def audit(self, *, group: str | None = None, limit: int = 100) -> list[AuditEntry]:
        entries = [_audit_entry(json.loads(raw)) for raw in self._redis.lrange(self._key("audit"), 0, -1)]
        return [e for e in entries if group is None or e.group == group][:limit]

    def add_mismatch(self, group: str, record: dict[str, Any], *, keep: int) -> int:
        mismatch_id = int(self._redis.incr(self._key("mismatch:id")))
        body = json.dumps({"id": mismatch_id, "at": _now(), "group": group, **record}, separators=(",", ":"))
        pipe = self._redis.pipeline()
        pipe.set(self._key(f"mismatch:{mismatch_id}"), body)
        pipe.lpush(self._key(f"mismatches:{group}"), mismatch_id)
        pipe.lpush(self._key("mismatches"), mismatch_id)
        pipe.lrange(self._key(f"mismatches:{group}"), keep, -1)
        *_, dropped = pipe.execute()
        if dropped:
            pipe = self._redis.pipeline()
            pipe.ltrim(self._key(f"mismatches:{group}"), 0, keep - 1)
            for old in dropped:
                pipe.delete(self._key(f"mismatch:{old}"))
                pipe.lrem(self._key("mismatches"), 1, old)
            pipe.execute()
        return mismatch_id

    def mismatches(self, *, group: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        ids = self._redis.lrange(self._key(f"mismatches:{group}" if group else "mismatches"), 0, limit - 1)
        bodies = self._redis.mget([self._key(f"mismatch:{i}") for i in ids]) if ids else []
        return [json.loads(body) for body in bodies if body]

    def mismatch(self, mismatch_id: int) -> dict[str, Any] | None:
        body = self._redis.get(self._key(f"mismatch:{mismatch_id}"))
        return json.loads(body) if body else None

    def close(self) -> None:
        self._redis.close()


def _audit_entry(raw: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        int(raw["id"]), raw["at"], raw["who"], raw["group"], raw["old_mode"], raw["new_mode"],
        float(raw["old_percent"]), float(raw["new_percent"]), raw["reason"], bool(raw["automatic"]),
    )  # fmt: skip


StateStore = SqlStore | RedisStore


def open_store(url: str) -> StateStore:
    scheme = urlsplit(url).scheme
    if scheme in {"sqlite", "postgres", "postgresql"}:
        return SqlStore(url)
    if scheme in {"redis", "rediss"}:
        return RedisStore(url)
    raise ValueError(f"state url {url!r}: expected sqlite:///path, postgres://… or redis://…")
