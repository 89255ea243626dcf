from django.urls import path

from extracted_services.payment.entrypoints.api import views

urlpatterns = [
    path("", views.PaymentAuthorizeView.as_view(), name="payment-authorize"),
    path("<uuid:payment_id>/", views.PaymentDetailView.as_view(), name="payment-detail"),
    path("<uuid:payment_id>/capture/", views.PaymentCaptureView.as_view(), name="payment-capture"),
    path("<uuid:payment_id>/void/", views.PaymentVoidView.as_view(), name="payment-void"),
    path("<uuid:payment_id>/refund/", views.PaymentRefundView.as_view(), name="payment-refund"),
]
