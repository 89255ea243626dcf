from django.apps import AppConfig


class ServiceCommonConfig(AppConfig):
    name = "extracted_services.common"
    label = "service_common"
    verbose_name = "Extracted service: shared tables"
    default_auto_field = "django.db.models.BigAutoField"
