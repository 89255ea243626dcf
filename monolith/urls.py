from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from monolith.api import export, internal
from monolith.core.views import healthz

export_api: list[URLPattern | URLResolver] = [
    path("inventory/warehouses/", export.WarehouseExportView.as_view(), name="export-warehouses"),
    path("inventory/stock/", export.StockExportView.as_view(), name="export-stock"),
    path("inventory/reservations/", export.ReservationExportView.as_view(), name="export-reservations"),
    path("payments/", export.PaymentExportView.as_view(), name="export-payments"),
    path("shipments/", export.ShipmentExportView.as_view(), name="export-shipments"),
    path("<str:capability>/position", export.ExportPositionView.as_view(), name="export-position"),
]

# Called by the strangler proxy with the internal token (docs/extraction.md, "Write barrier"); no user tokens.
internal_api: list[URLPattern | URLResolver] = [
    path("ownership/<str:capability>", internal.OwnershipView.as_view(), name="ownership"),
    path("ownership/<str:capability>/fence", internal.OwnershipFenceView.as_view(), name="ownership-fence"),
    path("ownership/<str:capability>/unfence", internal.OwnershipUnfenceView.as_view(), name="ownership-unfence"),
]

api: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenObtainPairView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("catalog/", include("monolith.catalog.urls")),
    path("inventory/", include("monolith.inventory.urls")),
    path("payments/", include("monolith.payments.urls")),
    path("shipments/", include("monolith.shipments.urls")),
    path("orders/", include("monolith.orders.urls")),
    path("export/", include(export_api)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/", include(api)),
    path("internal/", include(internal_api)),
    path("admin/", admin.site.urls),
]

handler400 = "monolith.api.errors.handler400"
handler403 = "monolith.api.errors.handler403"
handler404 = "monolith.api.errors.handler404"
handler500 = "monolith.api.errors.handler500"
