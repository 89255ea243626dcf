"""The inventory service's URLs: the monolith's inventory API, health, replication status and the OpenAPI schema."""

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from extracted_services.common.replication import replication_view
from extracted_services.inventory import bootstrap
from monolith.core.views import healthz

api: list[URLPattern | URLResolver] = [
    path("inventory/", include("extracted_services.inventory.entrypoints.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("internal/replication", replication_view(bootstrap.capability), name="internal-replication"),
    path("api/", include(api)),
]

handler400 = "monolith.api.errors.handler400"
handler403 = "monolith.api.errors.handler403"
handler404 = "monolith.api.errors.handler404"
handler500 = "monolith.api.errors.handler500"
