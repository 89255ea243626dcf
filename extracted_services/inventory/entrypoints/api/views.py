"""The inventory API: the monolith's contract (paths, permissions, statuses, bodies, error codes, idempotency).

Views only parse, call a use case or a query through ``bootstrap``, and render; a domain error becomes the
contract's JSON error through ``domain_errors``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from extracted_services.common.ownership_guard import guard_write
from extracted_services.inventory import bootstrap
from extracted_services.inventory.domain.errors import InventoryError
from extracted_services.inventory.entrypoints.api.serializers import (
    AdjustmentInSerializer,
    AdjustmentOutSerializer,
    ReservationInSerializer,
    ReservationOutSerializer,
    SkuStockSerializer,
)
from extracted_services.inventory.service_layer import queries, services
from monolith.api.idempotency import run_idempotent
from monolith.api.permissions import requires
from monolith.api.schema import IDEMPOTENCY_KEY, ErrorSerializer
from monolith.core.errors import DomainError
from strangler_proxy.model import Side
from strangler_proxy.ownership import OwnershipView


@contextmanager
def domain_errors() -> Iterator[None]:
    """Re-raise the domain's errors as the contract kernel's, which the API's exception handler renders."""
    try:
        yield
    except InventoryError as exc:
        error = DomainError(exc.message, code=exc.code, details=exc.details)
        error.status = exc.status
        raise error from exc


def _reservation(reservation_id: uuid.UUID) -> Any:
    return ReservationOutSerializer(queries.reservation_get(bootstrap.reader(), reservation_id=reservation_id)).data


def _owns_writes(view: OwnershipView) -> Side:
    # Inventory's writes move as a whole, at cut-over (reads follow the canary by SKU).
    return view.owner_of_writes("inventory")


class StockView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: SkuStockSerializer}, operation_id="inventory_stock_retrieve")
    def get(self, request: Request, sku: str) -> Response:
        with domain_errors():
            return Response(SkuStockSerializer(queries.stock_get(bootstrap.reader(), sku=sku)).data)


class AdjustmentCreateView(APIView):
    permission_classes = [requires("inventory.adjust_stock")]

    @extend_schema(
        request=AdjustmentInSerializer,
        responses={201: AdjustmentOutSerializer, 409: ErrorSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request) -> Response:
        data = AdjustmentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data

        def write() -> tuple[int, object]:
            adjustment = services.stock_adjust(
                bootstrap.unit_of_work(), warehouse_code=v["warehouse"], sku=v["sku"], delta=v["delta"],
                reason=v["reason"], actor_id=request.user.pk,
            )  # fmt: skip
            return 201, AdjustmentOutSerializer(adjustment).data

        guard_write(_owns_writes)
        with domain_errors():
            return run_idempotent(request, write)


class ReservationCreateView(APIView):
    permission_classes = [requires("inventory.reserve_stock")]

    @extend_schema(
        request=ReservationInSerializer,
        responses={201: ReservationOutSerializer, 409: ErrorSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request) -> Response:
        data = ReservationInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data

        def write() -> tuple[int, object]:
            lines = [(line["sku"], line["quantity"]) for line in v["lines"]]
            reservation = services.reservation_create(bootstrap.unit_of_work(), reference=v["reference"], lines=lines)
            return 201, _reservation(reservation.id)

        guard_write(_owns_writes)
        with domain_errors():
            return run_idempotent(request, write)


class ReservationDetailView(APIView):
    permission_classes = [requires("inventory.view_reservation")]

    @extend_schema(responses={200: ReservationOutSerializer})
    def get(self, request: Request, reservation_id: uuid.UUID) -> Response:
        with domain_errors():
            return Response(_reservation(reservation_id))


class ReservationReleaseView(APIView):
    permission_classes = [requires("inventory.reserve_stock")]

    @extend_schema(
        request=None, responses={200: ReservationOutSerializer, 409: ErrorSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    def post(self, request: Request, reservation_id: uuid.UUID) -> Response:
        def write() -> tuple[int, object]:
            services.reservation_release(bootstrap.unit_of_work(), reservation_id=reservation_id)
            return 200, _reservation(reservation_id)

        guard_write(_owns_writes)
        with domain_errors():
            return run_idempotent(request, write)
