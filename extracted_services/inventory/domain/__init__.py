"""Inventory's domain: stock, reservations, allocation, errors and events. No Django, Celery, httpx or I/O."""
