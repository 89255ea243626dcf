from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.api.auth import principal_of
from monolith.api.idempotency import run_idempotent
from monolith.api.permissions import can_see_all
from monolith.api.schema import IDEMPOTENCY_KEY, ErrorSerializer
from monolith.core.holds import held_write
from monolith.orders import selectors, services
from monolith.orders.serializers import CancelInSerializer, OrderInSerializer, OrderSerializer

VIEW_ALL = "orders.view_order"


def _scope(request: Request, perm: str) -> int | None:
    """None when the caller may act on any order, else the caller's own customer id."""
    return None if can_see_all(request, perm) else request.user.pk


class OrderListCreateView(ListAPIView):
    serializer_class = OrderSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.order_list(customer_id=_scope(self.request, VIEW_ALL))

    @extend_schema(
        request=OrderInSerializer,
        responses={201: OrderSerializer, 402: ErrorSerializer, 409: ErrorSerializer, 503: ErrorSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The legacy checkout: reserve stock, authorise payment, create shipments and confirm, "
        "all in one transaction. 402 when the card is declined, 409 when stock is short (per-SKU details).",
    )
    def post(self, request: Request) -> Response:
        data = OrderInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data

        def write() -> tuple[int, object]:
            order = services.order_place(
                customer_id=principal_of(request).id,
                lines=[(line["sku"], line["quantity"]) for line in v["lines"]],
                card_token=v["payment"]["card_token"],
            )
            return 201, OrderSerializer(selectors.order_get(order_id=order.id, customer_id=None)).data

        return held_write(lambda: run_idempotent(request, write))


class OrderDetailView(APIView):
    @extend_schema(responses={200: OrderSerializer})
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        order = selectors.order_get(order_id=order_id, customer_id=_scope(request, VIEW_ALL))
        return Response(OrderSerializer(order).data)


class OrderCancelView(APIView):
    @extend_schema(
        request=CancelInSerializer,
        responses={200: OrderSerializer, 409: ErrorSerializer, 503: ErrorSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        data = CancelInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scope = _scope(request, "orders.cancel_any_order")

        def write() -> tuple[int, object]:
            services.order_cancel(order_id=order_id, customer_id=scope, reason=data.validated_data["reason"])
            return 200, OrderSerializer(selectors.order_get(order_id=order_id, customer_id=None)).data

        return held_write(lambda: run_idempotent(request, write))
