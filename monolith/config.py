"""Settings read once from the environment into a typed, frozen object.

Everything the monolith reads from ``os.environ`` is read here and nowhere else::

    config = Config.from_env(os.environ)
    config.database_url  # "sqlite:///.../var/monolith.sqlite3" unless DATABASE_URL says otherwise
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """An environment variable has a value the monolith cannot use."""


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _list(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = environ.get(name)
    if raw is None:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _http_url(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = (environ.get(name) or "").strip() or default
    if not raw.startswith(("http://", "https://")) or len(raw.split("://", 1)[1].strip("/")) == 0:
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {raw!r}")
    return raw.rstrip("/")


@dataclass(frozen=True, kw_only=True)
class Config:
    debug: bool
    secret_key: str
    allowed_hosts: tuple[str, ...]
    database_url: str
    jwt_private_key_file: Path
    jwt_public_key_file: Path
    jwt_keys_configured: bool
    access_token_minutes: int
    max_body_bytes: int
    log_level: str
    events_broker_url: str
    events_wakeup_redis_url: str | None
    events_queue_prefix: str
    events_broker_dir: Path
    events_eventbridge_bus: str | None
    # Bearer token of the internal API (/internal/..., the cut-over fence); None disables that API.
    internal_token: str | None = None
    # The proxy's state store (read only): who owns which records. None keeps every call in process.
    strangler_state_url: str | None
    # Where the checkout's HTTP adapters reach the extracted services once they own records.
    inventory_service_url: str
    payment_service_url: str
    shipment_service_url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        debug = _bool(environ, "DEBUG", False)
        secret_key = environ.get("SECRET_KEY", "")
        if not secret_key:
            # A fixed development key keeps sessions valid across restarts of `make run`;
            # production must set its own (checked by `manage.py check --deploy`).
            secret_key = "dev-insecure-" + "x" * 50
        private = environ.get("JWT_PRIVATE_KEY_FILE")
        public = environ.get("JWT_PUBLIC_KEY_FILE")
        if bool(private) != bool(public):
            raise ConfigError("set both JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE, or neither")
        return cls(
            debug=debug,
            secret_key=secret_key,
            allowed_hosts=_list(environ, "ALLOWED_HOSTS", ("127.0.0.1", "localhost", "[::1]", "testserver")),
            database_url=environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'monolith.sqlite3'}"),
            jwt_private_key_file=Path(private) if private else VAR_DIR / "keys" / "jwt-private.pem",
            jwt_public_key_file=Path(public) if public else VAR_DIR / "keys" / "jwt-public.pem",
            jwt_keys_configured=bool(private),
            access_token_minutes=_int(environ, "ACCESS_TOKEN_MINUTES", 15),
            max_body_bytes=_int(environ, "MAX_BODY_BYTES", 1024 * 1024),
            log_level=environ.get("LOG_LEVEL", "INFO").upper(),
            events_broker_url=environ.get("EVENTS_BROKER_URL", "filesystem://"),
            events_wakeup_redis_url=environ.get("EVENTS_WAKEUP_REDIS_URL") or None,
            events_queue_prefix=environ.get("EVENTS_QUEUE_PREFIX", ""),
            events_broker_dir=Path(environ.get("EVENTS_BROKER_DIR") or VAR_DIR / "broker"),
            events_eventbridge_bus=environ.get("EVENTS_EVENTBRIDGE_BUS") or None,
            internal_token=environ.get("STRANGLER_INTERNAL_TOKEN") or None,
            strangler_state_url=environ.get("STRANGLER_STATE_URL") or None,
            inventory_service_url=_http_url(environ, "INVENTORY_SERVICE_URL", "http://127.0.0.1:8101"),
            payment_service_url=_http_url(environ, "PAYMENT_SERVICE_URL", "http://127.0.0.1:8102"),
            shipment_service_url=_http_url(environ, "SHIPMENT_SERVICE_URL", "http://127.0.0.1:8103"),
        )
