"""Settings of the django-revproxy benchmark project; the upstream comes from REVPROXY_UPSTREAM, read once here."""

from __future__ import annotations

import os

SECRET_KEY = "bench-only-not-secret"  # loopback benchmark: nothing is signed
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["revproxy"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.revproxy_site.urls"
WSGI_APPLICATION = "bench.revproxy_site.wsgi.application"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
LOGGING_CONFIG = None

REVPROXY_UPSTREAM = os.environ.get("REVPROXY_UPSTREAM", "http://127.0.0.1:8000")
