"""The ``--workers`` supervisor: a worker that dies before it serves stops the proxy (no restart loop)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from strangler_proxy.workers import Supervisor, bind


def exits_before_serving(index: int, ready: Any) -> None:
    sys.exit(3)  # a broken store or config, found by the worker: it never sets ready


def test_a_worker_that_dies_before_serving_stops_the_proxy_with_status_1() -> None:
    assert Supervisor(2, exits_before_serving, ()).run() == 1


def test_bind_refuses_a_port_already_listening() -> None:
    taken = bind("127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match="in use"):
            bind("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()
