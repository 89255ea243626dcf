"""A service's Django settings, built from its ``ServiceConfig``: the same API contract as the monolith's.

::

    # extracted_services/inventory/settings.py
    CONFIG = ServiceConfig.from_env("inventory", os.environ)
    globals().update(build_settings(CONFIG, PROJECT))

What is shared with the monolith, on purpose (docs/extraction.md, "Tokens" and the contract kernel): the
REST_FRAMEWORK block (authentication from the token alone, exception handler, parsers, pagination), the
request-id and body-size middleware, the token's issuer and audience. What differs: no signing key (a service
only verifies tokens), its own database, rules file and handlers, no admin, sessions or templates.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url

from extracted_services.common.config import ConfigError, ServiceConfig

DRY_RUN_MIDDLEWARE = "monolith.api.dry_run.DryRunMiddleware"


@dataclass(frozen=True, kw_only=True)
class ServiceProject:
    """What makes one service's project: its Django app, URLconf, title, event rules and handler table."""

    app: str  # the service's Django app, e.g. "extracted_services.inventory"
    package: str  # where its urls/wsgi modules live, e.g. "extracted_services.inventory"
    title: str
    rules_file: Path
    handlers: str  # dotted path of its HANDLERS table


def service_config() -> ServiceConfig:
    """The running service's config (``settings.SERVICE_CONFIG``, put there by ``build_settings``)."""
    from django.conf import settings

    config: ServiceConfig = settings.SERVICE_CONFIG  # type: ignore[misc]  # a setting of our own
    return config


def build_settings(config: ServiceConfig, project: ServiceProject) -> dict[str, Any]:
    """The settings module's namespace (upper-case names) for ``project`` configured by ``config``."""
    return {
        "SERVICE_CONFIG": config,
        "DEBUG": config.debug,
        "SECRET_KEY": config.secret_key,
        "ALLOWED_HOSTS": list(config.allowed_hosts),
        "INSTALLED_APPS": _installed_apps(project),
        "MIDDLEWARE": _middleware(),
        "ROOT_URLCONF": f"{project.package}.urls",
        "WSGI_APPLICATION": f"{project.package}.wsgi.application",
        "DATABASES": {"default": _database(config.database_url)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": False,
        "USE_TZ": True,
        "DATA_UPLOAD_MAX_MEMORY_SIZE": config.max_body_bytes,
        "MAX_BODY_BYTES": config.max_body_bytes,
        "REST_FRAMEWORK": _rest_framework(),
        "SIMPLE_JWT": _simple_jwt(_public_key(config.jwt_public_key_file)),
        "SPECTACULAR_SETTINGS": _spectacular(project.title),
        "LOGGING": _logging(config.log_level),
        "CSRF_FAILURE_VIEW": "monolith.api.errors.csrf_failure",
        "EVENTS": _events(config, project),
    }


def _installed_apps(project: ServiceProject) -> list[str]:
    return [
        # auth and contenttypes only because simplejwt imports their models; a service has no users.
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "drf_spectacular",
        "events",
        # The shared contract kernel: its IdempotencyRecord table lives in this service's own database.
        "monolith.core",
        "extracted_services.common",
        project.app,
    ]


def _middleware() -> list[str]:
    middleware = [
        "monolith.api.middleware.RequestIdMiddleware",
        "monolith.api.middleware.BodySizeLimitMiddleware",
    ]
    # Dry-run writes (X-Strangler-Shadow: 1) are honoured once the monolith's middleware exists: it is
    # being added beside this builder, so a service built before it simply runs without it.
    if importlib.util.find_spec(DRY_RUN_MIDDLEWARE.rsplit(".", 1)[0]) is not None:
        middleware.append(DRY_RUN_MIDDLEWARE)
    return [*middleware, "django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]


def _database(url: str) -> dict[str, Any]:
    database: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # As the monolith: IMMEDIATE makes concurrent writers queue instead of failing with "database is locked";
        # WAL lets readers run beside a writer.
        database["CONN_MAX_AGE"] = 0
        database["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    return database


def _rest_framework() -> dict[str, Any]:
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": ["monolith.api.auth.ClaimsJWTAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["monolith.api.parsers.BoundedJSONParser"],
        "DEFAULT_SCHEMA_CLASS": "monolith.api.schema.ErrorAwareAutoSchema",
        "DEFAULT_PAGINATION_CLASS": "monolith.api.pagination.BoundedLimitOffsetPagination",
        "PAGE_SIZE": 50,
        "EXCEPTION_HANDLER": "monolith.api.errors.exception_handler",
        "UNAUTHENTICATED_USER": None,
    }


def _public_key(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        raise ConfigError(
            f"JWT_PUBLIC_KEY_FILE: {path} does not exist (the monolith writes its key pair under var/keys on "
            "first start; run it once or point JWT_PUBLIC_KEY_FILE at its public key)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"JWT_PUBLIC_KEY_FILE: cannot read {path}: {exc.strerror}") from None


def _simple_jwt(public_pem: str) -> dict[str, Any]:
    return {
        "ALGORITHM": "RS256",
        "SIGNING_KEY": None,  # verify only: a service never issues tokens
        "VERIFYING_KEY": public_pem,
        "ISSUER": "monolith",
        "AUDIENCE": "shop",
        "USER_ID_CLAIM": "sub",
        "USER_ID_FIELD": "id",
        "UPDATE_LAST_LOGIN": False,
    }


def _spectacular(title: str) -> dict[str, Any]:
    return {
        "TITLE": title,
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
        "SERVE_AUTHENTICATION": [],
        "COMPONENT_SPLIT_REQUEST": True,
        # Operation ids without the "/api" prefix ("inventory_reservations_create"), however many other views the
        # project has: left to drf-spectacular the prefix is guessed from every view, internal ones included.
        "SCHEMA_PATH_PREFIX": "/api",
        "APPEND_COMPONENTS": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        },
    }


def _logging(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": level},
        # httpx logs every request at INFO: a backfill's pages would drown its own summary.
        "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
    }


def _events(config: ServiceConfig, project: ServiceProject) -> dict[str, Any]:
    filesystem = config.events_broker_url.startswith("filesystem://")
    if filesystem:
        config.events_broker_dir.mkdir(parents=True, exist_ok=True)
    folder = str(config.events_broker_dir)
    return {
        "BROKER_URL": config.events_broker_url,
        # kombu's filesystem transport, shared with the monolith's processes through one folder.
        "BROKER_OPTIONS": (
            {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder} if filesystem else {}
        ),
        "WAKEUP_REDIS_URL": config.events_wakeup_redis_url,
        "QUEUE_PREFIX": config.events_queue_prefix,
        "RULES_FILE": project.rules_file,
        "HANDLERS": project.handlers,
        "EVENTBRIDGE_BUS": config.events_eventbridge_bus,
    }
