from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "monolith.inventory"
    label = "inventory"
    verbose_name = "Inventory"
