"""A service's settings, read once from the environment into a typed, frozen object.

::

    config = ServiceConfig.from_env("inventory", os.environ)
    config.database_url     # INVENTORY_DATABASE_URL, else sqlite:///<repo>/var/inventory.sqlite3
    config.repository       # INVENTORY_REPOSITORY: orm (default) | dynamodb

Everything a service reads from ``os.environ`` is read here and nowhere else (docs/extraction.md, "Ports and
processes"). Reading files (the JWT public key) is left to the settings builder, so building a config does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_DEV_SECRET_KEY = "dev-insecure-service-" + "x" * 50


class ConfigError(ValueError):
    """An environment variable has a value the service cannot use; the message names the variable."""


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    return environ.get(name, "").strip() or None


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    name: str  # inventory | payment | shipment
    debug: bool
    secret_key: str
    allowed_hosts: tuple[str, ...]
    log_level: str
    max_body_bytes: int
    database_url: str
    repository: str  # which storage adapter bootstrap wires: orm | dynamodb
    jwt_public_key_file: Path
    events_broker_url: str
    events_broker_dir: Path
    events_wakeup_redis_url: str | None
    events_queue_prefix: str
    events_eventbridge_bus: str | None
    strangler_state_url: str | None  # the proxy's state store, read only (ownership); None: the monolith owns all
    internal_token: str | None  # STRANGLER_INTERNAL_TOKEN; None: internal endpoints answer 503
    monolith_url: str  # the monolith's export API, for backfill, reconcile and replication status
    monolith_token: str | None
    monolith_token_file: Path | None

    @classmethod
    def from_env(cls, name: str, environ: Mapping[str, str]) -> ServiceConfig:
        if not _NAME.match(name):
            raise ConfigError(f"service name {name!r} must be lower-case letters, digits and underscores")
        prefix = name.upper()
        hosts = environ.get("ALLOWED_HOSTS")
        token_file = _optional(environ, "MONOLITH_TOKEN_FILE")
        return cls(
            name=name,
            debug=_bool(environ, "DEBUG", False),
            secret_key=environ.get("SECRET_KEY") or _DEV_SECRET_KEY,
            allowed_hosts=(
                tuple(h.strip() for h in hosts.split(",") if h.strip())
                if hosts is not None
                else ("127.0.0.1", "localhost", "[::1]", "testserver")
            ),
            log_level=environ.get("LOG_LEVEL", "INFO").strip().upper() or "INFO",
            max_body_bytes=_int(environ, "MAX_BODY_BYTES", 1024 * 1024),
            database_url=environ.get(f"{prefix}_DATABASE_URL") or f"sqlite:///{VAR_DIR / f'{name}.sqlite3'}",
            repository=(environ.get(f"{prefix}_REPOSITORY") or "orm").strip().lower(),
            jwt_public_key_file=Path(environ.get("JWT_PUBLIC_KEY_FILE") or VAR_DIR / "keys" / "jwt-public.pem"),
            events_broker_url=environ.get("EVENTS_BROKER_URL") or "filesystem://",
            events_broker_dir=Path(environ.get("EVENTS_BROKER_DIR") or VAR_DIR / "broker"),
            events_wakeup_redis_url=_optional(environ, "EVENTS_WAKEUP_REDIS_URL"),
            events_queue_prefix=environ.get("EVENTS_QUEUE_PREFIX", ""),
            events_eventbridge_bus=_optional(environ, "EVENTS_EVENTBRIDGE_BUS"),
            strangler_state_url=_optional(environ, "STRANGLER_STATE_URL"),
            internal_token=_optional(environ, "STRANGLER_INTERNAL_TOKEN"),
            monolith_url=(environ.get("MONOLITH_URL") or "http://127.0.0.1:8000").rstrip("/"),
            monolith_token=_optional(environ, "MONOLITH_TOKEN"),
            monolith_token_file=Path(token_file) if token_file else None,
        )
