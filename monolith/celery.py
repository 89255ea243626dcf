"""The monolith's Celery app: ``celery -A monolith.celery worker -Q reporting``."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings")
django.setup()

from events.celery_app import make_celery_app  # noqa: E402  after django.setup()

app = make_celery_app("monolith")
