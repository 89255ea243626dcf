"""One JSON error shape for every API response that is not a success.

``{"error": {"code": "...", "message": "...", "details": {...}}}`` — for business errors, DRF's own
exceptions, and Django's 404/500/CSRF/too-large handlers, so a client never receives an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from monolith.core.errors import DomainError

logger = logging.getLogger(__name__)

_DRF_CODES: dict[type[drf.APIException], str] = {
    drf.ValidationError: "validation_error",
    drf.ParseError: "malformed_request",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "throttled",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


def json_error(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status)


def _drf_code(exc: drf.APIException) -> str:
    for cls in type(exc).__mro__:
        if cls in _DRF_CODES:
            return _DRF_CODES[cls]
    return str(exc.default_code)


def _drf_message(exc: drf.APIException) -> tuple[str, Any]:
    if isinstance(exc, drf.ValidationError):
        return "The request body is not valid.", exc.detail
    detail = exc.detail
    if isinstance(detail, dict):
        # simplejwt's InvalidToken carries {"detail": ..., "code": ..., "messages": [...]}
        message = str(detail.get("detail", exc.default_detail))
        return message, {k: v for k, v in detail.items() if k != "detail"}
    return str(detail), {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every error leaves as the project's JSON error shape."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        set_rollback()
        return Response(error_body("payload_too_large", "The request body is too large."), status=413)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if not isinstance(exc, drf.APIException):
        return None  # a bug: Django's handler500 answers with a JSON 500 and the traceback is logged
    set_rollback()
    message, details = _drf_message(exc)
    headers = {}
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    return Response(error_body(_drf_code(exc), message, details), status=exc.status_code, headers=headers)


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(400, "bad_request", "The request could not be understood.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(403, "permission_denied", "You do not have permission to perform this action.")


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(404, "not_found", "Not found.")


def handler500(request: HttpRequest) -> JsonResponse:
    return json_error(500, "internal_error", "An unexpected error occurred.")


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return json_error(403, "csrf_failed", "CSRF verification failed.")
