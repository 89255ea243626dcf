from __future__ import annotations

from collections.abc import Sequence

import redis

from events.transports import Delivery, TransportError
from events.transports.celery_protocol import redis_frame


class RedisCeleryTransport:
    """Ready-made Celery messages, one multi-value LPUSH per queue in one pipeline; the replies acknowledge.

    ``LPUSH q m1 m2 m3`` puts m1 nearest the tail kombu pops from, so each queue keeps the batch's order.
    """

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)

    def send(self, deliveries: Sequence[Delivery]) -> None:
        by_queue: dict[str, list[bytes]] = {}
        for d in deliveries:
            frame = redis_frame(d.queue, d.consumer, d.envelope, d.event_id, d.previous)
            by_queue.setdefault(d.queue, []).append(frame)
        pipe = self._client.pipeline(transaction=False)
        for queue, frames in by_queue.items():
            pipe.lpush(queue, *frames)
        try:
            replies = pipe.execute(raise_on_error=True)
        except redis.RedisError as exc:
            raise TransportError(f"redis: {exc}") from exc
        counts = [len(frames) for frames in by_queue.values()]
        acknowledged = len(replies) == len(counts) and all(
            isinstance(reply, int) and reply >= n for reply, n in zip(replies, counts, strict=True)
        )
        if not acknowledged:
            raise TransportError("redis did not acknowledge every write")

    def close(self) -> None:
        self._client.close()
