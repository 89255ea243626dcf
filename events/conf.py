"""The events app's settings, read once from ``settings.EVENTS`` into a frozen object.

::

    EVENTS = {
        "BROKER_URL": "redis://127.0.0.1:6379/0",       # or amqp://, filesystem://, sqs://
        "RULES_FILE": BASE_DIR / "event_rules.yaml",
        "HANDLERS": "monolith.event_handlers.HANDLERS", # consumer name -> {event type -> [handler paths]}
        "WAKEUP_REDIS_URL": "redis://127.0.0.1:6379/0",  # optional: wake relays right after commits
    }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings


@dataclass(frozen=True, kw_only=True)
class EventsConfig:
    broker_url: str = "memory://"
    broker_options: dict[str, Any] = field(default_factory=dict)
    rules_file: Path | None = None
    handlers: str | None = None
    wakeup_redis_url: str | None = None
    wakeup_channel: str = "strangler:outbox"
    queue_prefix: str = ""
    # AWS: the relay puts each routed event on this bus once (with every consumer's previous sequence) instead
    # of delivering ``queue:``/``sqs:`` targets itself; the bus holds the same rules (``events_rules deploy``).
    eventbridge_bus: str | None = None
    partitions: int = 16
    batch_size: int = 1000
    poll_min_seconds: float = 0.005
    poll_max_seconds: float = 0.05
    # Idle polling while the Redis wake-up channel is subscribed: commits announce themselves, so polling is
    # only a safety net (and costs CPU).
    wakeup_poll_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    heartbeat_seconds: float = 1.0
    relay_dead_after_seconds: float = 5.0
    max_attempts: int = 8
    # Must exceed visibility_timeout_seconds: messages a worker held when it lost the broker come back only
    # after that, and their successors should not be declared a gap before then.
    gap_timeout_seconds: float = 300.0
    # How long a delivered-but-unacknowledged message stays hidden before the broker (Redis, SQS) hands it out
    # again. Short is safe here: the inbox makes every redelivery a no-op.
    visibility_timeout_seconds: float = 60.0
    retention_days: float = 7.0

    @classmethod
    def from_settings(cls, raw: dict[str, Any]) -> EventsConfig:
        values = {k.lower(): v for k, v in raw.items()}
        if values.get("rules_file") is not None:
            values["rules_file"] = Path(values["rules_file"])
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError("unknown EVENTS settings: " + ", ".join(sorted(k.upper() for k in unknown)))
        return cls(**values)


@cache
def get_config() -> EventsConfig:
    return EventsConfig.from_settings(getattr(settings, "EVENTS", {}))
