"""The Celery entrypoint consumers run: ``events.deliver(consumer, envelope)``."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from events.inbox import receive


@shared_task(
    name="events.deliver", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None
)
def deliver(self: Any, consumer: str, envelope: str, previous: int | None = None) -> str:
    # acks_late is safe here only because the inbox makes a redelivery a no-op. Retries are unbounded here:
    # the inbox decides when an event is dead (attempts, gap timeout).
    outcome = receive(consumer=consumer, body=envelope, attempt=self.request.retries + 1, previous=previous)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.kind
