"""Internal endpoints (proxy → service): ``Authorization: Bearer <STRANGLER_INTERNAL_TOKEN>``, compared in
constant time. Without the variable they answer 503 ``internal_api_disabled``; a missing or wrong token, 401
(the same codes and messages as the monolith's internal endpoints, ``monolith.api.internal``).

::

    @internal_only
    def replication(request): ...
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from extracted_services.common.settings_builder import service_config
from monolith.api.errors import json_error

View = Callable[[HttpRequest], HttpResponse]


def check_internal_token(authorization: str, expected: str | None) -> HttpResponse | None:
    """The error response for an ``Authorization`` header, or None when it carries the internal token."""
    if not expected:
        message = "The internal API is disabled: STRANGLER_INTERNAL_TOKEN is not set."
        return json_error(503, "internal_api_disabled", message)
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return _unauthorised("not_authenticated", "The internal token is missing.")
    if not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        return _unauthorised("authentication_failed", "The internal token is not valid.")
    return None


def internal_only(view: View) -> View:
    @functools.wraps(view)
    def guarded(request: HttpRequest) -> HttpResponse:
        refusal = check_internal_token(request.headers.get("Authorization", ""), service_config().internal_token)
        return refusal if refusal is not None else view(request)

    return guarded


def _unauthorised(code: str, message: str) -> HttpResponse:
    response = json_error(401, code, message)
    response["WWW-Authenticate"] = 'Bearer realm="internal"'
    return response
