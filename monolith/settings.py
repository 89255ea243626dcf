"""Django settings for the monolith. Every value comes from ``monolith.config.Config``, read once."""

from __future__ import annotations

import os
from datetime import timedelta

import dj_database_url

from monolith.api.keys import load_key_pair
from monolith.config import BASE_DIR, Config

CONFIG = Config.from_env(os.environ)

DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "events",
    "strangler_proxy.contrib.django",
    "monolith.core",
    "monolith.catalog",
    "monolith.inventory",
    "monolith.payments",
    "monolith.shipments",
    "monolith.orders",
    "monolith.reporting",
    "monolith.legacy_sync",
]

MIDDLEWARE = [
    "monolith.api.middleware.RequestIdMiddleware",
    "monolith.api.middleware.BodySizeLimitMiddleware",
    "monolith.api.dry_run.DryRunMiddleware",  # X-Strangler-Shadow: 1 runs the request and rolls it back
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "monolith.urls"
WSGI_APPLICATION = "monolith.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of failing with
    # "database is locked" when a read transaction tries to upgrade; WAL lets readers run beside a writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

DATA_UPLOAD_MAX_MEMORY_SIZE = CONFIG.max_body_bytes
MAX_BODY_BYTES = CONFIG.max_body_bytes

_KEYS = load_key_pair(
    CONFIG.jwt_private_key_file,
    CONFIG.jwt_public_key_file,
    create_missing=not CONFIG.jwt_keys_configured,
)

REST_FRAMEWORK = {
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

SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "SIGNING_KEY": _KEYS.private_pem,
    "VERIFYING_KEY": _KEYS.public_pem,
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=CONFIG.access_token_minutes),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ISSUER": "monolith",
    "AUDIENCE": "shop",
    "USER_ID_CLAIM": "sub",
    "USER_ID_FIELD": "id",
    "TOKEN_OBTAIN_SERIALIZER": "monolith.api.auth.ClaimsTokenObtainPairSerializer",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Monolith shop API",
    "DESCRIPTION": "The legacy e-commerce API that the strangler toolkit migrates capability by capability.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids and tags are the path after this prefix. Pinned: guessed from every route, it shrank to "/"
    # once /internal/ existed, and every id gained "api_" (the services pin the same prefix).
    "SCHEMA_PATH_PREFIX": "/api",
    "APPEND_COMPONENTS": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
CSRF_FAILURE_VIEW = "monolith.api.errors.csrf_failure"
STRANGLER_INTERNAL_TOKEN = CONFIG.internal_token  # monolith.api.internal: None answers 503

# Who owns which records (the proxy's state store, read only) and where the services are: the checkout's ports
# (monolith.orders.bootstrap) call a service over HTTP for the records it owns. Unset: everything stays in process.
STRANGLER_STATE_URL = CONFIG.strangler_state_url
INVENTORY_SERVICE_URL = CONFIG.inventory_service_url
PAYMENT_SERVICE_URL = CONFIG.payment_service_url
SHIPMENT_SERVICE_URL = CONFIG.shipment_service_url

_BROKER_DIR = CONFIG.events_broker_dir
EVENTS = {
    "BROKER_URL": CONFIG.events_broker_url,
    # kombu's filesystem transport: the local default, no server needed. Producer and workers share the folder.
    "BROKER_OPTIONS": (
        {"data_folder_in": str(_BROKER_DIR), "data_folder_out": str(_BROKER_DIR), "control_folder": str(_BROKER_DIR)}
        if CONFIG.events_broker_url.startswith("filesystem://")
        else {}
    ),
    "WAKEUP_REDIS_URL": CONFIG.events_wakeup_redis_url,
    "QUEUE_PREFIX": CONFIG.events_queue_prefix,
    "RULES_FILE": BASE_DIR / "monolith" / "event_rules.yaml",
    "HANDLERS": "monolith.event_handlers.HANDLERS",
    # On AWS: publish to this bus (where `events_rules deploy` put the same rules) instead of delivering queues.
    "EVENTBRIDGE_BUS": CONFIG.events_eventbridge_bus,
}
if CONFIG.events_broker_url.startswith("filesystem://"):
    _BROKER_DIR.mkdir(parents=True, exist_ok=True)
