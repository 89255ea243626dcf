"""The monolith's Celery app, one worker per consumer queue (EVENTS["HANDLERS"], monolith/event_handlers.py):
``celery -A monolith.celery worker -Q reporting`` (the reporting read model) and
``celery -A monolith.celery worker -Q legacy-sync`` (reverse sync from the extracted services' events)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings")
django.setup()

from events.celery_app import make_celery_app  # noqa: E402  after django.setup()

app = make_celery_app("monolith")
