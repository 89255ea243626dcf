from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "monolith.reporting"
    label = "reporting"
    verbose_name = "Reporting"
