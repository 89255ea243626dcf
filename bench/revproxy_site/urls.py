"""Every path goes to the upstream through django-revproxy's ProxyView."""

from __future__ import annotations

from django.conf import settings
from django.urls import re_path
from revproxy.views import ProxyView


class BenchProxyView(ProxyView):
    # The strangler proxy sets X-Forwarded-For and -Proto too: same work on both sides.
    add_x_forwarded = True


urlpatterns = [
    re_path(r"^(?P<path>.*)$", BenchProxyView.as_view(upstream=settings.REVPROXY_UPSTREAM)),
]
