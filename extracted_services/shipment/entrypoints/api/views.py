"""The shipments API views: the monolith's (``monolith.shipments.views``), calling this service's use cases."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from extracted_services.common.ownership_guard import guard_write
from extracted_services.shipment import bootstrap
from extracted_services.shipment.adapters import orm
from extracted_services.shipment.domain import Shipment
from extracted_services.shipment.entrypoints.api.serializers import (
    ShipmentInSerializer,
    ShipmentListQuerySerializer,
    ShipmentSerializer,
)
from extracted_services.shipment.service_layer import services
from extracted_services.shipment.service_layer.services import ShipmentDependencies
from monolith.api.idempotency import run_idempotent
from monolith.api.permissions import can_see_all, requires
from monolith.api.schema import IDEMPOTENCY_KEY, ErrorSerializer

VIEW_ALL = "shipments.view_shipment"


class ShipmentListCreateView(GenericAPIView):  # type: ignore[type-arg]
    serializer_class = ShipmentSerializer

    def get_permissions(self) -> Sequence[Any]:
        if self.request.method == "POST":
            return [requires("shipments.create_shipment")()]
        return super().get_permissions()

    @extend_schema(parameters=[ShipmentListQuerySerializer], responses={200: ShipmentSerializer(many=True)})
    def get(self, request: Request) -> Response:
        query = ShipmentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = orm.records()
        if (order_id := query.validated_data.get("order_id")) is not None:
            found = found.filter(order_id=order_id)
        if not can_see_all(request, VIEW_ALL):
            found = found.filter(customer_id=request.user.pk)
        page = self.paginate_queryset(found)
        shipments = [orm.to_domain(record) for record in (page if page is not None else found)]
        data = ShipmentSerializer(shipments, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

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
                bootstrap.shipment_dependencies(),
                order_id=v["order_id"],
                customer_id=v["customer_id"],
                warehouse=v["warehouse"],
                lines=[(line["sku"], line["quantity"]) for line in v["lines"]],
            )
            return 201, ShipmentSerializer(shipment).data

        guard_write(lambda view: view.owner("shipment", key=str(v["order_id"])))
        return run_idempotent(request, write)


class ShipmentDetailView(APIView):
    @extend_schema(responses={200: ShipmentSerializer})
    def get(self, request: Request, shipment_id: uuid.UUID) -> Response:
        customer = None if can_see_all(request, VIEW_ALL) else request.user.pk
        deps = bootstrap.shipment_dependencies()
        return Response(
            ShipmentSerializer(services.shipment_get(deps, shipment_id=shipment_id, customer_id=customer)).data
        )


Move = Callable[..., Shipment]


def _transition(request: Request, shipment_id: uuid.UUID, action: Move) -> Response:
    deps: ShipmentDependencies = bootstrap.shipment_dependencies()

    def write() -> tuple[int, Any]:
        return 200, ShipmentSerializer(action(deps, shipment_id=shipment_id)).data

    guard_write(lambda view: view.owner_of_record("shipment", shipment_id))
    return run_idempotent(request, write)


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
