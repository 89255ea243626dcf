"""The export API a service's backfill reads (docs/extraction.md, "Export API").

::

    GET /api/export/payments/?limit=500            -> {"results": [...], "next": "<cursor>" | null}
    GET /api/export/payments/?after=<cursor>       -> the next page
    GET /api/export/payments/position              -> {"capability": "payments", "events": 1234}

Each record is the document the capability's events carry, plus ``aggregate_type``, ``aggregate_id`` and
``sequence`` (``monolith.core.export``). Pages are keyset-paginated by primary key; the cursor is opaque
(URL-safe base64 of JSON) and a bad one is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.api import export_schema as schema
from monolith.api.auth import ClaimsJWTAuthentication
from monolith.api.internal import InternalTokenAuthentication, admitting_internal
from monolith.api.permissions import requires
from monolith.core.capabilities import CAPABILITY_AGGREGATES, capability_position
from monolith.core.errors import DomainError
from monolith.core.export import ExportPage
from monolith.inventory.selectors import reservation_export, stock_export, warehouse_export
from monolith.payments.selectors import payment_export
from monolith.shipments.selectors import shipment_export

VIEW_PERMISSIONS = {
    "inventory": "inventory.view_stock",
    "payments": "payments.view_payment",
    "shipments": "shipments.view_shipment",
}
_MAX_BIGINT = 2**63 - 1


def encode_cursor(key: int | str) -> str:
    raw = json.dumps({"after": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The key a cursor carries; ``DomainError`` (400 ``invalid_cursor``) when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        return json.loads(raw)["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError) as exc:
        raise _bad_cursor() from exc


def _bad_cursor() -> DomainError:
    return DomainError(
        "after is not a cursor this API returned; pass the previous page's next.",
        code="invalid_cursor",
        details={"parameter": "after"},
    )


def _int_key(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_BIGINT:
        raise _bad_cursor()
    return value


def _uuid_key(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise _bad_cursor() from None


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return schema.DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= schema.MAX_LIMIT:
        raise DomainError(
            f"limit must be an integer from 1 to {schema.MAX_LIMIT}.",
            code="invalid_limit",
            details={"parameter": "limit", "minimum": 1, "maximum": schema.MAX_LIMIT},
        )
    return int(raw)


class _ExportView(APIView):
    select: Callable[..., ExportPage]
    key: Callable[[Any], int | uuid.UUID]

    def page(self, request: Request) -> Response:
        cursor = request.query_params.get("after")
        after = None if cursor is None else type(self).key(decode_cursor(cursor))
        page = type(self).select(after=after, limit=_limit(request))
        following = None if page.last_key is None else encode_cursor(page.last_key)
        return Response({"results": page.records, "next": following})


class WarehouseExportView(_ExportView):
    permission_classes = [requires(VIEW_PERMISSIONS["inventory"])]
    select = staticmethod(warehouse_export)
    key = staticmethod(_int_key)

    @extend_schema(
        parameters=[schema.AFTER, schema.LIMIT],
        responses={200: schema.WarehousePageSerializer},
        operation_id="export_inventory_warehouses",
    )
    def get(self, request: Request) -> Response:
        return self.page(request)


class StockExportView(_ExportView):
    permission_classes = [requires(VIEW_PERMISSIONS["inventory"])]
    select = staticmethod(stock_export)
    key = staticmethod(_int_key)

    @extend_schema(
        parameters=[schema.AFTER, schema.LIMIT],
        responses={200: schema.StockPageSerializer},
        operation_id="export_inventory_stock",
    )
    def get(self, request: Request) -> Response:
        return self.page(request)


class ReservationExportView(_ExportView):
    permission_classes = [requires(VIEW_PERMISSIONS["inventory"])]
    select = staticmethod(reservation_export)
    key = staticmethod(_uuid_key)

    @extend_schema(
        parameters=[schema.AFTER, schema.LIMIT],
        responses={200: schema.ReservationPageSerializer},
        operation_id="export_inventory_reservations",
    )
    def get(self, request: Request) -> Response:
        return self.page(request)


class PaymentExportView(_ExportView):
    permission_classes = [requires(VIEW_PERMISSIONS["payments"])]
    select = staticmethod(payment_export)
    key = staticmethod(_uuid_key)

    @extend_schema(
        parameters=[schema.AFTER, schema.LIMIT],
        responses={200: schema.PaymentPageSerializer},
        operation_id="export_payments",
    )
    def get(self, request: Request) -> Response:
        return self.page(request)


class ShipmentExportView(_ExportView):
    permission_classes = [requires(VIEW_PERMISSIONS["shipments"])]
    select = staticmethod(shipment_export)
    key = staticmethod(_uuid_key)

    @extend_schema(
        parameters=[schema.AFTER, schema.LIMIT],
        responses={200: schema.ShipmentPageSerializer},
        operation_id="export_shipments",
    )
    def get(self, request: Request) -> Response:
        return self.page(request)


class ExportPositionView(APIView):
    """How many events the capability has published: where a backfilled replica must catch up to.

    Also open to the internal token: a service's ``/internal/replication`` reads it with the token it already
    holds, no user token needed.
    """

    authentication_classes = [InternalTokenAuthentication, ClaimsJWTAuthentication]

    def get_permissions(self) -> list[BasePermission]:
        perm = VIEW_PERMISSIONS.get(getattr(self, "kwargs", {}).get("capability", ""))
        return [admitting_internal(requires(perm) if perm else IsAuthenticated)()]

    def get_authenticate_header(self, request: Request) -> str:
        # A 401 names the user token's scheme, as every other export answer does.
        return ClaimsJWTAuthentication().authenticate_header(request)

    @extend_schema(
        parameters=[OpenApiParameter("capability", location=OpenApiParameter.PATH, enum=list(CAPABILITY_AGGREGATES))],
        responses={200: schema.ExportPositionSerializer},
        operation_id="export_position",
        description="A staff token with the capability's view permission, or the internal token "
        "(`STRANGLER_INTERNAL_TOKEN`, as the services' replication status sends it).",
    )
    def get(self, request: Request, capability: str) -> Response:
        return Response({"capability": capability, "events": capability_position(capability=capability)})
