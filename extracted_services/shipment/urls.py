"""The shipment service's URLs: the monolith's shipments API, health and the internal replication status."""

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from extracted_services.common.replication import replication_view
from extracted_services.shipment import bootstrap
from monolith.core.views import healthz

api: list[URLPattern | URLResolver] = [
    path("shipments/", include("extracted_services.shipment.entrypoints.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/", include(api)),
    path("internal/replication", replication_view(bootstrap.capability), name="internal-replication"),
]

handler400 = "monolith.api.errors.handler400"
handler403 = "monolith.api.errors.handler403"
handler404 = "monolith.api.errors.handler404"
handler500 = "monolith.api.errors.handler500"
