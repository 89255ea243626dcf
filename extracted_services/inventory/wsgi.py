"""WSGI entrypoint: ``gunicorn extracted_services.inventory.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

# Set, not setdefault: an inherited DJANGO_SETTINGS_MODULE (often the monolith's) must not win.
os.environ["DJANGO_SETTINGS_MODULE"] = "extracted_services.inventory.settings"

application = get_wsgi_application()
