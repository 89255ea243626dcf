"""A Celery app configured for event consumers from the events settings.

::

    # myproject/celery.py
    app = make_celery_app("myproject")     # then: celery -A myproject.celery worker -Q <consumer>
"""

from __future__ import annotations

from celery import Celery

from events.conf import get_config


def make_celery_app(name: str) -> Celery:
    config = get_config()
    app = Celery(name)
    app.conf.update(
        broker_url=config.broker_url,
        broker_transport_options={"visibility_timeout": config.visibility_timeout_seconds, **config.broker_options},
        broker_connection_retry_on_startup=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=4,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
    )
    import events.tasks  # noqa: F401  registers events.deliver on this app

    return app
