"""The payment service's Celery app: ``celery -A extracted_services.payment.celery worker -Q payment``."""

import os

import django

# Set, not setdefault: an inherited DJANGO_SETTINGS_MODULE (often the monolith's) must not win.
os.environ["DJANGO_SETTINGS_MODULE"] = "extracted_services.payment.settings"
django.setup()

from events.celery_app import make_celery_app  # noqa: E402  after django.setup()

app = make_celery_app("payment_service")
