"""Reachability of the real servers tests use, and the rule for when one is missing.

A test needing a server it cannot reach is skipped with the server's name; under ``CI=true`` the missing
server is a failure instead, so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(name: str, host: str, port: int) -> None:
    if reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (required under CI=true)", pytrace=False)
    pytest.skip(message)
