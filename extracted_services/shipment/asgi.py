"""ASGI entrypoint: ``uvicorn extracted_services.shipment.asgi:application --port 8103``."""

import os

from django.core.asgi import get_asgi_application

# Set, not setdefault: an inherited DJANGO_SETTINGS_MODULE (often the monolith's) must not win.
os.environ["DJANGO_SETTINGS_MODULE"] = "extracted_services.shipment.settings"

application = get_asgi_application()
