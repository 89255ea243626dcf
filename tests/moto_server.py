"""A private moto server on a loopback port: AWS APIs (SQS, EventBridge) over real HTTP, for integration tests.

::

    with moto_server(log_dir) as endpoint_url, aws_environment(endpoint_url):
        boto3.client("sqs").create_queue(QueueName="q")   # boto3 reads AWS_ENDPOINT_URL itself

Each server is its own process with its own state, gone when it stops: nothing outlives the tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.processes import free_port

# Credentials moto accepts; the profile and config variables are cleared so a developer's real AWS setup
# (a profile, SSO, a session token) is never read while tests run.
AWS_TEST_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_REGION")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def moto_server(log_dir: Path, deadline_s: float = 30.0) -> Iterator[str]:
    """Start ``python -m moto.server`` on a free loopback port; yield its endpoint URL; stop it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = log_dir / f"moto-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + deadline_s
        while not _answers(url):
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto server not answering on {url} after {deadline_s}s")
            time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@contextmanager
def aws_environment(endpoint_url: str, config_dir: Path) -> Iterator[dict[str, str]]:
    """Point boto3 (here and in subprocesses started meanwhile) at ``endpoint_url``; restore the env afterwards."""
    with pytest.MonkeyPatch.context() as patch:
        for name in _CLEARED:
            patch.delenv(name, raising=False)
        env = {
            **AWS_TEST_ENV,
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_CONFIG_FILE": str(config_dir / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(config_dir / "aws-credentials"),
        }
        for name, value in env.items():
            patch.setenv(name, value)
        yield env
