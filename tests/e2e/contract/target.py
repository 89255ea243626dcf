"""A server a contract suite runs against: its base URL and bearer tokens for the demo users."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Target:
    name: str
    base_url: str
    tokens: dict[str, str] = field(default_factory=dict)  # demo username -> access token

    def call(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if user is not None:
            sent["Authorization"] = f"Bearer {self.tokens[user]}"
        return httpx.request(method, self.base_url + path, json=json, headers=sent, timeout=10.0)


def error_of(response: httpx.Response) -> tuple[int, str]:
    """The status and error code of an error answer, checking it has the project's JSON error shape."""
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return response.status_code, body["error"]["code"]


def subject_of(token: str) -> int:
    """The user id a token was issued to (its ``sub`` claim; read, not verified)."""
    import base64
    import json

    payload = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])
