from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.processes import LiveMonolith, start_monolith


@pytest.fixture(scope="module")
def live_monolith(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveMonolith]:
    """The monolith under gunicorn on a free loopback port, with its own seeded SQLite database."""
    server = start_monolith(Path(tmp_path_factory.mktemp("monolith")))
    try:
        yield server
    finally:
        server.stop()
