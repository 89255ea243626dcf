from importlib import import_module

from django.apps import AppConfig


class PaymentServiceConfig(AppConfig):
    """The payment service's app. Its models live in ``adapters/orm.py`` (the ORM is an adapter here), so that is the
    module imported as the app's models."""

    name = "extracted_services.payment"
    label = "payment_service"
    verbose_name = "Payment service"
    default_auto_field = "django.db.models.BigAutoField"

    def import_models(self) -> None:
        assert self.apps is not None
        self.models = self.apps.all_models[self.label]
        self.models_module = import_module(f"{self.name}.adapters.orm")

    def ready(self) -> None:
        from extracted_services.payment import bootstrap

        bootstrap.check_configuration()
