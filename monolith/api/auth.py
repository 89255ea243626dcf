"""Bearer-token authentication whose decisions need nothing but the token.

Tokens are RS256 JWTs carrying the principal's id, staff flag and permission strings, so an extracted
service holding only the public key authorises a request exactly as the monolith does::

    POST /api/auth/token/ {"username": "alice", "password": "..."} -> {"access": "...", "refresh": "..."}
    GET /api/orders/<id>/  Authorization: Bearer <access>
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import Token

# Only permissions of the shop's own apps travel in tokens: they are what the API checks.
SHOP_APP_LABELS = ("catalog", "inventory", "orders", "payments", "shipments")


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says. Never loaded from the database."""

    id: int
    username: str
    is_staff: bool
    permissions: frozenset[str]
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def pk(self) -> int:
        return self.id

    def has_perm(self, perm: str) -> bool:
        return perm in self.permissions


def token_claims_for(user: AbstractBaseUser) -> dict[str, Any]:
    perms = sorted(p for p in user.get_all_permissions() if p.split(".", 1)[0] in SHOP_APP_LABELS)  # type: ignore[attr-defined]
    return {
        "username": user.get_username(),
        "is_staff": bool(getattr(user, "is_staff", False)),
        "perms": perms,
    }


class ClaimsTokenObtainPairSerializer(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user: AbstractBaseUser) -> Token:  # type: ignore[override]
        token = super().get_token(user)
        for claim, value in token_claims_for(user).items():
            token[claim] = value
        return token


class ClaimsJWTAuthentication(JWTStatelessUserAuthentication):
    """Authenticate from the bearer token alone; ``request.user`` becomes a ``Principal``."""

    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Principal, Token] | None:  # type: ignore[override]
        result = super().authenticate(request)
        if result is None:
            return None
        _, token = result
        return principal_from_token(token), token


def principal_of(request: Request) -> Principal:
    """The authenticated caller of a view whose permissions already required authentication."""
    user = request.user
    if not isinstance(user, Principal):
        raise TypeError("principal_of() needs a request authenticated by ClaimsJWTAuthentication")
    return user


def principal_from_token(token: Token) -> Principal:
    return Principal(
        id=int(token["sub"]),
        username=str(token.get("username", "")),
        is_staff=bool(token.get("is_staff", False)),
        permissions=frozenset(token.get("perms", [])),
    )


def issue_access_token(user: AbstractBaseUser) -> str:
    """An access token for ``user``, as the token endpoint would give (used by commands and tests)."""
    return str(ClaimsTokenObtainPairSerializer.get_token(user).access_token)  # type: ignore[attr-defined]
