from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from monolith.core.views import healthz

api: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenObtainPairView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("catalog/", include("monolith.catalog.urls")),
    path("inventory/", include("monolith.inventory.urls")),
    path("payments/", include("monolith.payments.urls")),
    path("shipments/", include("monolith.shipments.urls")),
    path("orders/", include("monolith.orders.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/", include(api)),
    path("admin/", admin.site.urls),
]

handler400 = "monolith.api.errors.handler400"
handler403 = "monolith.api.errors.handler403"
handler404 = "monolith.api.errors.handler404"
handler500 = "monolith.api.errors.handler500"
