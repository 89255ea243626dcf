from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import ON_POSTGRES
from tests.integration.process_database import ProcessDatabase, process_database
from tests.integration.relay_support import REDIS_URL
from tests.moto_server import aws_environment, moto_server
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


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private moto server for the session; boto3 here and in subprocesses is pointed at it through the env."""
    workdir = tmp_path_factory.mktemp("moto")
    with moto_server(workdir) as endpoint_url, aws_environment(endpoint_url, workdir):
        yield endpoint_url


@pytest.fixture(scope="session")
def shared_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessDatabase]:
    """A migrated database for processes the tests start, of the engine this run is on."""
    with process_database(tmp_path_factory.mktemp("processes"), postgres=ON_POSTGRES) as database:
        yield database
