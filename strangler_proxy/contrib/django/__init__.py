"""A reusable Django app for the monolith: ``manage.py proxy_routes`` derives proxy routes from the URLconf.

Add ``"strangler_proxy.contrib.django"`` to ``INSTALLED_APPS``; it has no models and no URLs.
"""
