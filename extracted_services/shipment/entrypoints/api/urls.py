from django.urls import path

from extracted_services.shipment.entrypoints.api import views

urlpatterns = [
    path("", views.ShipmentListCreateView.as_view(), name="shipment-list"),
    path("<uuid:shipment_id>/", views.ShipmentDetailView.as_view(), name="shipment-detail"),
    path("<uuid:shipment_id>/dispatch/", views.ShipmentDispatchView.as_view(), name="shipment-dispatch"),
    path("<uuid:shipment_id>/deliver/", views.ShipmentDeliverView.as_view(), name="shipment-deliver"),
    path("<uuid:shipment_id>/cancel/", views.ShipmentCancelView.as_view(), name="shipment-cancel"),
]
