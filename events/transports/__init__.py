"""Broker transports the relay publishes through, behind one method.

::

    TransportError                a send did not complete: nothing in the batch may be marked sent

``send(deliveries)`` returns only when the broker has acknowledged every message (Redis replied to each write,
RabbitMQ confirmed each publish, SQS answered 200); otherwise it raises ``TransportError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Delivery", "Transport", "TransportError", "open_transport"]


class TransportError(RuntimeError):
    """The broker did not acknowledge the whole batch."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one consumer: ``queue`` is the consumer's queue name, ``envelope`` the CloudEvent JSON."""

    queue: str
    consumer: str
    event_id: str
    envelope: str
    previous: int | None  # sequence of the aggregate's previous event sent to this consumer (None: unknown)


class Transport(Protocol):
    def send(self, deliveries: Sequence[Delivery]) -> None: ...

    def close(self) -> None: ...


def open_transport(broker_url: str, options: dict[str, object] | None = None) -> Transport:
    """The fastest correct transport for ``broker_url``: raw pipelined writes on Redis, kombu elsewhere."""
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        from events.transports.redis_celery import RedisCeleryTransport

        return RedisCeleryTransport(broker_url)
    from events.transports.kombu_celery import KombuCeleryTransport

    return KombuCeleryTransport(broker_url, options or {})
