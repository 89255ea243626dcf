from django.apps import AppConfig


class LegacySyncConfig(AppConfig):
    name = "monolith.legacy_sync"
    label = "legacy_sync"
    verbose_name = "Legacy sync"
