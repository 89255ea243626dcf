"""A minimal Django project that is nothing but django-revproxy's ProxyView, for bench/proxy.py.

::

    REVPROXY_UPSTREAM=http://127.0.0.1:8000 REVPROXY_BIND=127.0.0.1:8300 \
        .venv/bin/python -m gunicorn -c python:bench.revproxy_site.gunicorn_conf bench.revproxy_site.wsgi

No database, no middleware, no templates: the cheapest Django that can run ProxyView, so that the comparison in
bench/proxy.py is against django-revproxy at its best.
"""
