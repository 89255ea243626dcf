"""OpenAPI generation that documents the JSON error shape on every operation."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.contrib.rest_framework_simplejwt import TokenObtainPairSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="Repeat a write safely: a repeat with the same key returns the first result.",
)

# Statuses any operation can answer with, whatever the view does.
_ALWAYS = ("400", "401", "404", "405", "406")
_WITH_BODY = ("413", "415", "422")
# Answered by gunicorn itself, before Django sees the request: a request line over 4094 bytes.
_URI_TOO_LONG = {
    "description": "The request line (path and query string) is too long; answered by the HTTP server in HTML.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}


class ErrorAwareAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        statuses = list(_ALWAYS)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.extend(_WITH_BODY)
        if self._needs_permission():
            statuses.append("403")
        for status in statuses:
            if status not in responses:
                responses[status] = self._get_response_for_code(ErrorSerializer, status, direction=direction)
        responses.setdefault("414", _URI_TOO_LONG)
        return responses

    def _needs_permission(self) -> bool:
        from rest_framework.permissions import AllowAny

        return not all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def get_auth(self) -> list[dict[str, list[str]]]:
        return [{"bearerAuth": []}, {}]


class ClaimsTokenObtainPairSerializerExtension(TokenObtainPairSerializerExtension):
    """Document ``{"access", "refresh"}`` as the token endpoint's answer (the stock extension skips subclasses)."""

    target_class = "monolith.api.auth.ClaimsTokenObtainPairSerializer"
