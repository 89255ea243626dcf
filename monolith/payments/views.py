from __future__ import annotations

import uuid
from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.api.auth import principal_of
from monolith.api.idempotency import run_idempotent
from monolith.api.permissions import can_see_all, requires
from monolith.api.schema import IDEMPOTENCY_KEY, ErrorSerializer
from monolith.payments import selectors, services
from monolith.payments.models import Payment
from monolith.payments.serializers import AmountInSerializer, AuthorizeInSerializer, PaymentSerializer


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
                customer_id=principal_of(request).id,
                amount=v["amount"],
                currency=v["currency"],
                card_token=v["card_token"],
                order_id=v.get("order_id"),
            )
            return 201, PaymentSerializer(payment).data

        return run_idempotent(request, write)


class PaymentDetailView(APIView):
    @extend_schema(responses={200: PaymentSerializer})
    def get(self, request: Request, payment_id: uuid.UUID) -> Response:
        customer = None if can_see_all(request, "payments.view_payment") else request.user.pk
        return Response(PaymentSerializer(selectors.payment_get(payment_id=payment_id, customer_id=customer)).data)


def _staff_write(request: Request, action: Callable[[], Payment]) -> Response:
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
        return _staff_write(request, lambda: type(self).service(payment_id=payment_id, amount=amount))


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
        return _staff_write(request, lambda: services.payment_void(payment_id=payment_id))
