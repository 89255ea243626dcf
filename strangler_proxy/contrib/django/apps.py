from __future__ import annotations

from django.apps import AppConfig


class StranglerProxyConfig(AppConfig):
    name = "strangler_proxy.contrib.django"
    label = "strangler_proxy"
    verbose_name = "Strangler proxy"
