from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    name = "monolith.shipments"
    label = "shipments"
    verbose_name = "Shipments"
