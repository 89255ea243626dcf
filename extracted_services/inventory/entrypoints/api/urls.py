"""``/api/inventory/…``: the same paths and names as ``monolith/inventory/urls.py``."""

from django.urls import path

from extracted_services.inventory.entrypoints.api import views

urlpatterns = [
    path("stock/<str:sku>/", views.StockView.as_view(), name="stock-detail"),
    path("adjustments/", views.AdjustmentCreateView.as_view(), name="adjustment-create"),
    path("reservations/", views.ReservationCreateView.as_view(), name="reservation-create"),
    path("reservations/<uuid:reservation_id>/", views.ReservationDetailView.as_view(), name="reservation-detail"),
    path(
        "reservations/<uuid:reservation_id>/release/",
        views.ReservationReleaseView.as_view(),
        name="reservation-release",
    ),
]
