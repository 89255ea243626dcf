"""Permission checks read from the token's claims (see ``monolith.api.auth``)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def requires(perm: str) -> type[BasePermission]:
    """A DRF permission class admitting principals whose token carries ``perm`` (e.g. ``payments.capture_payment``)."""

    class _Requires(BasePermission):
        message = f"This action needs the {perm} permission."

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perm(perm))

    _Requires.__name__ = f"Requires_{perm.replace('.', '_')}"
    return _Requires


def can_see_all(request: Request, perm: str) -> bool:
    """Staff holding ``perm`` see every record; everyone else only their own."""
    user = request.user
    return bool(user.is_authenticated and user.has_perm(perm))
