"""Waking relays right after a commit instead of waiting for their next poll.

Producers PUBLISH on a Redis channel after commit; relays SUBSCRIBE and wake. Publishing is coalesced per
process: at most one message per millisecond, with a trailing one so the last commit is never missed. Without
``WAKEUP_REDIS_URL`` relays simply poll (5–50 ms adaptive sleep).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from events.conf import get_config

logger = logging.getLogger("events.wakeup")
_WINDOW = 0.001


class _Publisher:
    def __init__(self, url: str, channel: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._channel = channel
        self._lock = threading.Lock()
        self._last = 0.0
        self._pending = False

    def notify(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last >= _WINDOW:
                self._last = now
                self._publish()
            elif not self._pending:
                self._pending = True
                threading.Timer(_WINDOW, self._trailing).start()

    def _trailing(self) -> None:
        with self._lock:
            self._pending = False
            self._last = time.monotonic()
            self._publish()

    def _publish(self) -> None:
        try:
            self._client.publish(self._channel, b"1")
        except redis.RedisError as exc:  # a missed wake-up only costs latency: the relay still polls
            logger.debug("relay wake-up not sent: %s", exc)


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def notify_relays() -> None:
    global _publisher
    config = get_config()
    if not config.wakeup_redis_url:
        return
    if _publisher is None:
        with _publisher_lock:
            _publisher = _publisher or _Publisher(config.wakeup_redis_url, config.wakeup_channel)
    _publisher.notify()


def listen(
    url: str,
    channel: str,
    on_wake: Callable[[], None],
    stop: threading.Event,
    on_state: Callable[[bool], None] = lambda subscribed: None,
) -> threading.Thread:
    """Call ``on_wake`` whenever a producer announces a commit, until ``stop`` is set (in a daemon thread).

    ``on_state(True)`` once subscribed, ``on_state(False)`` when the channel is lost (the relay then polls fast
    again until it is back), each followed by a wake so nothing committed meanwhile waits for a slow poll.
    """

    def run() -> None:
        while not stop.is_set():
            try:
                pubsub: Any = redis.Redis.from_url(url, socket_timeout=None).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(channel)
                pubsub.get_message(timeout=1.0)  # the subscription's confirmation: from here no commit is missed
                on_state(True)
                on_wake()
                while not stop.is_set():
                    if pubsub.get_message(timeout=0.5) is not None:
                        on_wake()
            except redis.RedisError as exc:
                on_state(False)
                on_wake()
                logger.warning("wake-up channel unavailable (%s); relying on polling", exc)
                stop.wait(1.0)

    thread = threading.Thread(target=run, name="relay-wakeup", daemon=True)
    thread.start()
    return thread
