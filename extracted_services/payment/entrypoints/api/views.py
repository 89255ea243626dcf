"""The payments API views: the monolith's (``monolith.payments.views``), calling this service's use cases."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from extracted_services.common.ownership_guard import guard_write
from extracted_services.payment import bootstrap
from extracted_services.payment.domain import Payment
from extracted_services.payment.entrypoints.api.serializers import (
    AmountInSerializer,
    AuthorizeInSerializer,
    PaymentSerializer,
)
from extracted_services.payment.service_layer import services
from monolith.api.auth import principal_of
from monolith.api.idempotency import run_idempotent
from monolith.api.permissions import can_see_all, requires
from monolith.api.schema import IDEMPOTENCY_KEY, ErrorSerializer

VIEW_ALL = "payments.view_payment"


class PaymentAuthorizeView(APIView):
    @extend_schema(
        request=AuthorizeInSerializer,
        responses={201: PaymentSerializer, 402: ErrorSerializer, 503: ErrorSerializer},
        parameters=[IDEMPOTENCY_KEY],
        operation_id="payments_authorize",
    )
    def post(self, request: Request) -> Response:
        data = AuthorizeInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data

        def write() -> tuple[int, object]:
            payment = services.payment_authorize(
                bootstrap.payment_dependencies(),
                customer_id=principal_of(request).id,
                amount=v["amount"],
                currency=v["currency"],
                card_token=v["card_token"],
                order_id=v.get("order_id"),
            )
            return 201, PaymentSerializer(payment).data

        order_id = v.get("order_id")
        guard_write(lambda view: view.owner("payment", key=str(order_id) if order_id else None))
        return run_idempotent(request, write)


class PaymentDetailView(APIView):
    @extend_schema(responses={200: PaymentSerializer})
    def get(self, request: Request, payment_id: uuid.UUID) -> Response:
        customer = None if can_see_all(request, VIEW_ALL) else request.user.pk
        payment = services.payment_get(bootstrap.payment_dependencies(), payment_id=payment_id, customer_id=customer)
        return Response(PaymentSerializer(payment).data)


def _staff_write(request: Request, payment_id: uuid.UUID, action: Callable[[], Payment]) -> Response:
    guard_write(lambda view: view.owner_of_record("payment", payment_id))
    return run_idempotent(request, lambda: (200, PaymentSerializer(action()).data))


_STAFF_RESPONSES = {200: PaymentSerializer, 409: ErrorSerializer, 503: ErrorSerializer}


class _AmountActionView(APIView):
    """Capture and refund: an optional amount in (default: all that is left), the payment out."""

    service: Callable[..., Payment]

    @extend_schema(request=AmountInSerializer, responses=_STAFF_RESPONSES, parameters=[IDEMPOTENCY_KEY])
    def post(self, request: Request, payment_id: uuid.UUID) -> Response:
        data = AmountInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        amount = data.validated_data.get("amount")
        service = type(self).service
        deps = bootstrap.payment_dependencies()
        return _staff_write(request, payment_id, lambda: service(deps, payment_id=payment_id, amount=amount))


class PaymentCaptureView(_AmountActionView):
    permission_classes = [requires("payments.capture_payment")]
    service = staticmethod(services.payment_capture)


class PaymentRefundView(_AmountActionView):
    permission_classes = [requires("payments.refund_payment")]
    service = staticmethod(services.payment_refund)


class PaymentVoidView(APIView):
    permission_classes = [requires("payments.void_payment")]

    @extend_schema(request=None, responses=_STAFF_RESPONSES, parameters=[IDEMPOTENCY_KEY])
    def post(self, request: Request, payment_id: uuid.UUID) -> Response:
        deps = bootstrap.payment_dependencies()
        return _staff_write(request, payment_id, lambda: services.payment_void(deps, payment_id=payment_id))
