from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.api.idempotency import run_idempotent
from monolith.api.permissions import requires
from monolith.api.schema import IDEMPOTENCY_KEY, ErrorSerializer
from monolith.inventory import selectors, services
from monolith.inventory.serializers import (
    AdjustmentInSerializer,
    AdjustmentOutSerializer,
    ReservationInSerializer,
    ReservationOutSerializer,
    SkuStockSerializer,
)


class StockView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: SkuStockSerializer}, operation_id="inventory_stock_retrieve")
    def get(self, request: Request, sku: str) -> Response:
        return Response(SkuStockSerializer(selectors.stock_get(sku=sku)).data)


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
                warehouse_code=v["warehouse"],
                sku=v["sku"],
                delta=v["delta"],
                reason=v["reason"],
                actor_id=request.user.pk,
            )
            return 201, AdjustmentOutSerializer(adjustment).data

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
            reservation = services.reservation_create(
                reference=v["reference"], lines=[(line["sku"], line["quantity"]) for line in v["lines"]]
            )
            return 201, ReservationOutSerializer(selectors.reservation_get(reservation_id=reservation.id)).data

        return run_idempotent(request, write)


class ReservationDetailView(APIView):
    permission_classes = [requires("inventory.view_reservation")]

    @extend_schema(responses={200: ReservationOutSerializer})
    def get(self, request: Request, reservation_id: uuid.UUID) -> Response:
        return Response(ReservationOutSerializer(selectors.reservation_get(reservation_id=reservation_id)).data)


class ReservationReleaseView(APIView):
    permission_classes = [requires("inventory.reserve_stock")]

    @extend_schema(
        request=None, responses={200: ReservationOutSerializer, 409: ErrorSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    def post(self, request: Request, reservation_id: uuid.UUID) -> Response:
        def write() -> tuple[int, object]:
            services.reservation_release(reservation_id=reservation_id)
            return 200, ReservationOutSerializer(selectors.reservation_get(reservation_id=reservation_id)).data

        return run_idempotent(request, write)
