from __future__ import annotations

from collections.abc import Sequence

import redis

from events.transports import Delivery, TransportError
from events.transports.celery_protocol import redis_frame


class RedisCeleryTransport:
    """Pipelined LPUSH of ready-made Celery messages; every write's reply is the acknowledgement."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)

    def send(self, deliveries: Sequence[Delivery]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for d in deliveries:
            pipe.lpush(d.queue, redis_frame(d.queue, d.consumer, d.envelope, d.event_id, d.previous))
        try:
            replies = pipe.execute(raise_on_error=True)
        except redis.RedisError as exc:
            raise TransportError(f"redis: {exc}") from exc
        if len(replies) != len(deliveries) or not all(isinstance(r, int) and r > 0 for r in replies):
            raise TransportError("redis did not acknowledge every write")

    def close(self) -> None:
        self._client.close()
