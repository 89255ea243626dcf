"""Dry-run writes: ``X-Strangler-Shadow: 1`` runs a request fully and rolls everything back.

The proxy shadows a write to a service with this header (docs/extraction.md, "Dry-run writes"): the request
runs inside one transaction per database that is always rolled back, so no row, outbox event or idempotency
record survives, and the answer is what the request would have answered, plus ``X-Strangler-Dry-Run: 1``.

Effects outside the databases cannot be rolled back, so code that causes them asks ``is_dry_run()`` and takes a
harmless path instead (the monolith's payment gateway answers from its token table without charging anyone).
This module imports no app, so the extracted services use it as it is::

    MIDDLEWARE = [..., "monolith.api.dry_run.DryRunMiddleware", ...]
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from contextvars import ContextVar

from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse

__all__ = ["DRY_RUN_HEADER", "SHADOW_HEADER", "DryRunMiddleware", "is_dry_run"]

SHADOW_HEADER = "X-Strangler-Shadow"
DRY_RUN_HEADER = "X-Strangler-Dry-Run"

_dry_run: ContextVar[bool] = ContextVar("strangler_dry_run", default=False)


def is_dry_run() -> bool:
    """True while a dry-run request is being served: do nothing that cannot be rolled back."""
    return _dry_run.get()


class DryRunMiddleware:
    """Serve ``X-Strangler-Shadow: 1`` requests inside transactions that are always rolled back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get(SHADOW_HEADER, "").strip() != "1":
            return self.get_response(request)
        token = _dry_run.set(True)
        try:
            with ExitStack() as stack:
                aliases = list(connections)
                for alias in aliases:
                    stack.enter_context(transaction.atomic(using=alias))
                response = self.get_response(request)
                for alias in aliases:
                    transaction.set_rollback(True, using=alias)
        finally:
            _dry_run.reset(token)
        response[DRY_RUN_HEADER] = "1"
        return response
