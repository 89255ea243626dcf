"""gunicorn settings for the django-revproxy benchmark project (sync workers, like the monolith's)."""

import multiprocessing
import os

bind = os.environ.get("REVPROXY_BIND", "127.0.0.1:8300")
# Default: the monolith's own rule (monolith/gunicorn_conf.py), 2 × cores + 1.
workers = int(os.environ.get("REVPROXY_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
accesslog = None
control_socket_disable = True  # gunicorn 27's per-user control socket would clash with other instances
