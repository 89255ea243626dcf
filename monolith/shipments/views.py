from __future__ import annotations

import uuid
from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.api.idempotency import run_idempotent
from monolith.api.permissions import can_see_all, requires
from monolith.api.schema import IDEMPOTENCY_KEY, ErrorSerializer
from monolith.core.holds import held_write
from monolith.shipments import selectors, services
from monolith.shipments.models import Shipment
from monolith.shipments.serializers import ShipmentInSerializer, ShipmentListQuerySerializer, ShipmentSerializer

VIEW_ALL = "shipments.view_shipment"


class ShipmentListCreateView(ListAPIView):
    serializer_class = ShipmentSerializer

    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.request.method == "POST":
            return [requires("shipments.create_shipment")()]
        return super().get_permissions()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        query = ShipmentListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        customer = None if can_see_all(self.request, VIEW_ALL) else self.request.user.pk
        return selectors.shipment_list(order_id=query.validated_data.get("order_id"), customer_id=customer)

    @extend_schema(parameters=[ShipmentListQuerySerializer])
    def get(self, request: Request) -> Response:
        return super().get(request)

    @extend_schema(
        request=ShipmentInSerializer,
        responses={201: ShipmentSerializer, 409: ErrorSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request) -> Response:
        data = ShipmentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data

        def write() -> tuple[int, object]:
            shipment = services.shipment_create(
                order_id=v["order_id"],
                customer_id=v["customer_id"],
                warehouse=v["warehouse"],
                lines=[(line["sku"], line["quantity"]) for line in v["lines"]],
            )
            return 201, ShipmentSerializer(selectors.shipment_get(shipment_id=shipment.id)).data

        return run_idempotent(request, write)


class ShipmentDetailView(APIView):
    @extend_schema(responses={200: ShipmentSerializer})
    def get(self, request: Request, shipment_id: uuid.UUID) -> Response:
        customer = None if can_see_all(request, VIEW_ALL) else request.user.pk
        return Response(ShipmentSerializer(selectors.shipment_get(shipment_id=shipment_id, customer_id=customer)).data)


def _transition(request: Request, shipment_id: uuid.UUID, action: Callable[..., Shipment]) -> Response:
    def write() -> tuple[int, object]:
        action(shipment_id=shipment_id)
        return 200, ShipmentSerializer(selectors.shipment_get(shipment_id=shipment_id)).data

    # Dispatching consumes stock and may capture the payment: held while either capability is cut over.
    return held_write(lambda: run_idempotent(request, write), own="shipments")


_TRANSITION_SCHEMA = extend_schema(
    request=None, responses={200: ShipmentSerializer, 409: ErrorSerializer}, parameters=[IDEMPOTENCY_KEY]
)


class ShipmentDispatchView(APIView):
    permission_classes = [requires("shipments.dispatch_shipment")]

    @_TRANSITION_SCHEMA
    def post(self, request: Request, shipment_id: uuid.UUID) -> Response:
        return _transition(request, shipment_id, services.shipment_dispatch)


class ShipmentDeliverView(APIView):
    permission_classes = [requires("shipments.deliver_shipment")]

    @_TRANSITION_SCHEMA
    def post(self, request: Request, shipment_id: uuid.UUID) -> Response:
        return _transition(request, shipment_id, services.shipment_deliver)


class ShipmentCancelView(APIView):
    permission_classes = [requires("shipments.cancel_shipment")]

    @_TRANSITION_SCHEMA
    def post(self, request: Request, shipment_id: uuid.UUID) -> Response:
        return _transition(request, shipment_id, services.shipment_cancel)
