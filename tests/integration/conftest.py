from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.integration.relay_support import REDIS_URL
from tests.services import require


@pytest.fixture
def queue_prefix() -> Iterator[str]:
    require("Redis", "127.0.0.1", 6379)
    prefix = f"test-{uuid.uuid4().hex[:12]}-"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
