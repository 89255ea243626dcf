"""Internal endpoints the strangler proxy calls during a cut-over; not part of the public API.

::

    POST /internal/ownership/payments/fence     Authorization: Bearer <STRANGLER_INTERNAL_TOKEN>
    -> 200 {"capability": "payments", "fenced": true, "fenced_at": "...", "position": 1234}
    POST /internal/ownership/payments/unfence   -> 200 {..., "fenced": false, "position": null}
    GET  /internal/ownership/payments           -> 200 the same shape

They take no user token: the shared internal token, compared in constant time, is the only credential.
Without ``STRANGLER_INTERNAL_TOKEN`` configured they answer 503 ``internal_api_disabled``.

A public endpoint can admit the internal token too, next to user tokens (the export position a service's
``/internal/replication`` reads)::

    authentication_classes = [InternalTokenAuthentication, ClaimsJWTAuthentication]
    permission_classes = [admitting_internal(requires("inventory.view_stock"))]
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.core.errors import DomainError
from monolith.core.models import CapabilityOwnership
from monolith.core.ownership import capability_fence, capability_ownership_get, capability_unfence


class InternalApiDisabled(DomainError):
    status = 503
    code = "internal_api_disabled"


class InternalTokenRejected(DomainError):
    status = 401
    code = "authentication_failed"


def check_internal_token(authorization: str | None, expected: str | None) -> None:
    """Raise unless ``authorization`` is ``Bearer <expected>``; usable by any process holding the token."""
    if not expected:
        raise InternalApiDisabled("The internal API is disabled: STRANGLER_INTERNAL_TOKEN is not set.")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InternalTokenRejected("The internal token is missing.", code="not_authenticated")
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise InternalTokenRejected("The internal token is not valid.")


@dataclass(frozen=True)
class InternalCaller:
    """``request.user`` of a request that presented the internal token: a process of the toolkit, not a user."""

    is_authenticated: bool = True
    is_anonymous: bool = False

    def has_perm(self, perm: str) -> bool:
        return False  # it holds no user permission; endpoints that admit it say so (admitting_internal)


class InternalTokenAuthentication(BaseAuthentication):
    """The internal token (constant-time, ``check_internal_token``) on an endpoint that also takes user tokens:
    it authenticates an ``InternalCaller``; any other header is left to the next authentication class."""

    def authenticate(self, request: Request) -> tuple[InternalCaller, None] | None:
        expected = getattr(settings, "STRANGLER_INTERNAL_TOKEN", None)
        try:
            check_internal_token(request.headers.get("Authorization"), expected)
        except DomainError:
            return None
        return InternalCaller(), None


def admitting_internal(permission: type[BasePermission]) -> type[BasePermission]:
    """``permission``, or the internal caller (its message and its other answers unchanged)."""

    class _AdmittingInternal(permission):  # type: ignore[valid-type, misc]
        def has_permission(self, request: Request, view: Any) -> bool:
            return isinstance(request.user, InternalCaller) or bool(super().has_permission(request, view))

    _AdmittingInternal.__name__ = f"{permission.__name__}_or_internal"
    return _AdmittingInternal


def ownership_body(row: CapabilityOwnership) -> dict[str, Any]:
    return {
        "capability": row.capability,
        "fenced": row.fenced,
        "fenced_at": row.fenced_at.isoformat() if row.fenced_at else None,
        "position": row.position,
    }


@extend_schema(exclude=True)
class _InternalView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        check_internal_token(request.headers.get("Authorization"), getattr(settings, "STRANGLER_INTERNAL_TOKEN", None))


class OwnershipView(_InternalView):
    def get(self, request: Request, capability: str) -> Response:
        return Response(ownership_body(capability_ownership_get(capability=capability)))


class OwnershipFenceView(_InternalView):
    def post(self, request: Request, capability: str) -> Response:
        return Response(ownership_body(capability_fence(capability=capability)))


class OwnershipUnfenceView(_InternalView):
    def post(self, request: Request, capability: str) -> Response:
        return Response(ownership_body(capability_unfence(capability=capability)))
