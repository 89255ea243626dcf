from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from kombu.connection import Connection
from kombu.entity import Queue
from kombu.exceptions import KombuError

from events.transports import Delivery, TransportError
from events.transports.celery_protocol import task_body, task_headers


class KombuCeleryTransport:
    """Celery messages through kombu, for RabbitMQ (publisher confirms), SQS and the filesystem transport."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        transport_options = dict(options)
        if url.startswith(("amqp://", "amqps://", "pyamqp://")):
            transport_options.setdefault("confirm_publish", True)
        self._connection = Connection(url, transport_options=transport_options, connect_timeout=5)
        self._producer: Any = None
        self._declared: set[str] = set()

    def send(self, deliveries: Sequence[Delivery]) -> None:
        try:
            producer = self._producer or self._connect()
            for d in deliveries:
                self._declare(d.queue)
                task_id = str(uuid.uuid4())
                producer.publish(
                    task_body(d.consumer, d.envelope, d.previous), exchange="", routing_key=d.queue, serializer=None,
                    content_type="application/json", content_encoding="utf-8", delivery_mode=2, retry=False,
                    headers=task_headers(task_id, f"({d.consumer!r}, <event {d.event_id}>)"), correlation_id=task_id,
                )  # fmt: skip
        except (KombuError, OSError, ConnectionError) as exc:
            self._reset()
            raise TransportError(f"{self._connection.transport_cls}: {exc}") from exc
        except Exception as exc:  # broker client libraries raise their own trees (amqp, botocore)
            self._reset()
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    def _connect(self) -> Any:
        self._connection.ensure_connection(max_retries=1)
        self._producer = self._connection.Producer()
        return self._producer

    def _declare(self, queue: str) -> None:
        if queue not in self._declared:
            Queue(queue, durable=True, channel=self._producer.channel).declare()
            self._declared.add(queue)

    def _reset(self) -> None:
        self._producer = None
        self._declared.clear()
        try:
            self._connection.release()
        except Exception:  # noqa: BLE001 - the connection is already broken; a fresh one is made next time
            pass
        self._connection = self._connection.clone()

    def close(self) -> None:
        self._connection.release()
