"""A client of the monolith's export API (docs/extraction.md, "Export API"): pages of records and positions.

::

    with ExportClient("http://127.0.0.1:8000", token) as client:
        for page in client.pages("inventory/stock/", limit=500):
            ...                                   # page.results, page.next (the cursor after it)
        client.position("inventory")              # events published so far for the capability

Errors, one tree, each message one line naming the problem::

    ExportError
     ├── ExportUnreachable    connection failed or timed out
     ├── ExportRefused        401/403: the token is missing, expired or lacks the view permission
     ├── ExportNotFound       404: the monolith does not serve this export
     └── ExportBadResponse    any other status, or a body not shaped like a page
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from extracted_services.common.config import ServiceConfig

EXPORT_PREFIX = "/api/export/"


class ExportError(Exception):
    pass


class ExportUnreachable(ExportError):
    pass


class ExportRefused(ExportError):
    pass


class ExportNotFound(ExportError):
    pass


class ExportBadResponse(ExportError):
    pass


class TokenMissing(ValueError):
    """No token was given by option, file or environment."""


@dataclass(frozen=True)
class Page:
    results: list[dict[str, Any]]
    next: str | None


def resolve_token(*, token: str | None, token_file: Path | None, config: ServiceConfig) -> str:
    """The bearer token for the export API: ``--token``, ``--token-file``, MONOLITH_TOKEN, MONOLITH_TOKEN_FILE."""
    if token:
        return token.strip()
    path = token_file or (None if config.monolith_token else config.monolith_token_file)
    if path is not None:
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise TokenMissing(f"cannot read the token file {path}: {exc.strerror}") from None
        if not text:
            raise TokenMissing(f"the token file {path} is empty")
        return text
    if config.monolith_token:
        return config.monolith_token
    raise TokenMissing(
        "no monolith token: pass --token or --token-file, or set MONOLITH_TOKEN "
        "(`python manage.py issue_token staff` prints one)"
    )


class ExportClient:
    def __init__(
        self, base_url: str, token: str | None, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> ExportClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def page(self, path: str, *, after: str | None, limit: int) -> Page:
        params: dict[str, str | int] = {"limit": limit}
        if after is not None:
            params["after"] = after
        body = self._get(EXPORT_PREFIX + path, params)
        results, cursor = body.get("results"), body.get("next")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise ExportBadResponse(f"{self.base_url}{EXPORT_PREFIX}{path}: 'results' is not a list of objects")
        if cursor is not None and not isinstance(cursor, str):
            raise ExportBadResponse(f"{self.base_url}{EXPORT_PREFIX}{path}: 'next' is not a string or null")
        return Page(results=results, next=cursor or None)

    def pages(self, path: str, *, after: str | None = None, limit: int) -> Iterator[Page]:
        while True:
            page = self.page(path, after=after, limit=limit)
            yield page
            if page.next is None:
                return
            after = page.next

    def position(self, capability: str) -> int:
        url = f"{EXPORT_PREFIX}{capability}/position"
        events = self._get(url, {}).get("events")
        if isinstance(events, bool) or not isinstance(events, int) or events < 0:
            raise ExportBadResponse(f"{self.base_url}{url}: 'events' is not a count")
        return events

    def _get(self, path: str, params: dict[str, str | int]) -> dict[str, Any]:
        url = self.base_url + path
        try:
            response = self._client.get(path, params=params)
        except httpx.TransportError as exc:
            raise ExportUnreachable(f"cannot reach the monolith at {url}: {type(exc).__name__} {exc}".strip()) from None
        if response.status_code in (401, 403):
            raise ExportRefused(
                f"the monolith refused the token ({response.status_code} {_code(response)}) at {url}: it must be a "
                "current staff token with the capability's view permission"
            )
        if response.status_code == 404:
            raise ExportNotFound(f"the monolith does not serve {url} (404)")
        if response.status_code != 200:
            raise ExportBadResponse(f"{url} answered {response.status_code} {_code(response)}".rstrip())
        try:
            body = response.json()
        except ValueError:
            raise ExportBadResponse(f"{url} answered with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise ExportBadResponse(f"{url} answered with JSON that is not an object")
        return body


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""
