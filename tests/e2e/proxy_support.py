"""Real strangler-proxy processes and the stand-in inventory service on loopback, for tests/e2e/test_proxy.py.

::

    stand_in = start_stand_in(workdir)
    config = write_proxy_config(workdir / "proxy.yaml", monolith_url=..., stand_in_url=stand_in.base_url, ...)
    proxy = start_proxy("proxy-a", config, workdir, admin_token="...")
    proxy.flip("inventory", mode="service", reason="e2e")
    httpx.get(proxy.base_url + "/api/inventory/stock/MUG-LOGO/").headers["x-strangler-upstream"]  # "inventory"
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.e2e.processes import Process, free_port, start_process, wait_until_healthy

TIMEOUT = httpx.Timeout(10.0, connect=2.0)  # every request a test makes is bounded


def _started(process: Process, *urls: str) -> None:
    try:
        for url in urls:
            wait_until_healthy(url, process.popen, deadline_s=20.0)
    except Exception:
        process.kill()
        raise RuntimeError(f"{process.name} did not start; log:\n{process.log()}") from None


@dataclass
class StandIn:
    """The stand-in service's process and its control endpoints (see ``tests.e2e.stand_in_service``)."""

    base_url: str
    process: Process

    def control(self, **change: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.base_url}/_control", json=change, timeout=TIMEOUT)
        response.raise_for_status()
        return dict(response.json())

    def reset(self) -> None:
        self.control(reset=True)

    def seen(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.base_url}/_seen", timeout=TIMEOUT)
        response.raise_for_status()
        return list(response.json()["requests"])

    def stop(self) -> None:
        self.process.stop()


def start_stand_in(workdir: Path) -> StandIn:
    port = free_port()
    argv = [sys.executable, "-m", "tests.e2e.stand_in_service", "--port", str(port)]
    process = start_process("stand-in", argv, {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}, workdir)
    base_url = f"http://127.0.0.1:{port}"
    _started(process, f"{base_url}/_seen")
    return StandIn(base_url, process)


@dataclass
class LiveProxy:
    """One ``python -m strangler_proxy`` process: its public URL, its admin URL and the admin token named ``env``."""

    name: str
    base_url: str
    admin_url: str
    token: str
    process: Process

    def admin(self, method: str, path: str, *, token: str | None = None, json: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.request(method, self.admin_url + path, headers=headers, json=json, timeout=TIMEOUT)

    def flip(self, group: str, *, reason: str, token: str | None = None, **change: Any) -> dict[str, Any]:
        response = self.admin("PATCH", f"/routes/{group}", token=token, json={**change, "reason": reason})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def group(self, name: str) -> dict[str, Any]:
        response = self.admin("GET", f"/routes/{name}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def audit(self, group: str) -> list[dict[str, Any]]:
        response = self.admin("GET", f"/audit?group={group}&limit=20")
        assert response.status_code == 200, response.text
        return list(response.json()["entries"])

    def stop(self) -> None:
        self.process.stop()


def start_proxy(
    name: str,
    config: Path,
    workdir: Path,
    *,
    admin_token: str,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> LiveProxy:
    """Start the proxy on two free loopback ports (through the environment, as several instances would be)."""
    port, admin_port = free_port(), free_port()
    env = {
        **(extra_env or {}),
        "PATH": "/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
        "STRANGLER_ADMIN_TOKEN": admin_token,
        "STRANGLER_LISTEN": f"127.0.0.1:{port}",
        "STRANGLER_ADMIN_LISTEN": f"127.0.0.1:{admin_port}",
        "LOG_LEVEL": "INFO",
    }
    argv = [sys.executable, "-m", "strangler_proxy", "--config", str(config), *extra_args]
    process = start_process(name, argv, env, workdir)
    base_url, admin_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"
    # /healthz on the public port is the monolith's own: the proxy is up and can reach it.
    _started(process, f"{admin_url}/healthz", f"{base_url}/healthz")
    return LiveProxy(name, base_url, admin_url, admin_token, process)


def write_proxy_config(
    path: Path,
    *,
    monolith_url: str,
    stand_in_url: str,
    closed_url: str,
    state_path: Path,
    tokens: dict[str, str],
    max_body_bytes: int,
) -> Path:
    """The proxy's YAML: the ``inventory`` group on the stand-in, the ``ghost`` group on a port nobody listens on."""
    stock_read = {"path": "/api/inventory/stock/<str:sku>/", "methods": ["GET"]}
    adjustment = {"path": "/api/inventory/adjustments/", "methods": ["POST"]}
    config = {
        "upstreams": {
            "monolith": {"url": monolith_url, "timeouts": {"connect": 1, "read": 10}},
            "inventory": {
                "url": stand_in_url,
                "timeouts": {"connect": 1, "read": 1},
                "breaker": {"failures": 3, "open_seconds": 2},
            },
            "ghost": {"url": closed_url, "timeouts": {"connect": 1, "read": 1}, "breaker": {"failures": 1000}},
        },
        "monolith": "monolith",
        "max_body_bytes": max_body_bytes,
        "state": {"url": f"sqlite:///{state_path}"},
        "admin": {"tokens": tokens},
        "groups": {
            "inventory": {
                "service": "inventory",
                "mode": "monolith",
                "percent": 0,
                "sticky": {"from": "header", "name": "X-Customer-Id", "default": "monolith"},
                "shadow": {
                    "writes": "skip",
                    "sample_rate": 1.0,
                    "timeout": 2,
                    "ignore_headers": ["date", "server", "x-request-id"],
                },  # fmt: skip
                "rollback": {"window_seconds": 10, "min_requests": 10, "error_rate": 0.5},
                "routes": [stock_read, adjustment],
            },
            "ghost": {"service": "ghost", "routes": [{"path": "/api/ghost/<str:thing>/", "methods": ["GET", "POST"]}]},
        },
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def write_cutover_config(
    path: Path, *, monolith_url: str, service_url: str, state_path: Path, tokens: dict[str, str]
) -> Path:
    """The proxy's YAML for a cut-over: an ``inventory`` group with a ``cutover`` section; both upstreams are stand-ins
    (the monolith's fence and the service's replication status)."""
    config = {
        "upstreams": {
            "monolith": {"url": monolith_url, "timeouts": {"connect": 1, "read": 5}},
            "inventory": {"url": service_url, "timeouts": {"connect": 1, "read": 5}},
        },
        "state": {"url": f"sqlite:///{state_path}"},
        "admin": {"tokens": tokens},
        "groups": {
            "inventory": {
                "service": "inventory",
                "sticky": {"from": "path", "name": "sku"},
                "writes": "at-cutover",
                "cutover": {"capability": "inventory", "timeout": 15, "hold_timeout": 15},
                "routes": [
                    {"path": "/api/inventory/stock/<str:sku>/", "methods": ["GET"]},
                    {"path": "/api/inventory/adjustments/", "methods": ["POST"]},
                ],
            },
        },
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
