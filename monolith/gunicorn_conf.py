"""gunicorn settings for the monolith (``gunicorn -c python:monolith.gunicorn_conf monolith.wsgi``)."""

import multiprocessing
import os

# Not PORT: honcho sets PORT for every process it starts.
bind = os.environ.get("MONOLITH_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl) shared by every
# instance on the machine; nothing here uses it, and tests and benchmarks run several instances side by side.
control_socket_disable = True
