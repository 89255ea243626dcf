"""Django settings for the payment service, built by the shared builder from ``ServiceConfig`` (read once)."""

from __future__ import annotations

import os
from pathlib import Path

from extracted_services.common.config import ServiceConfig
from extracted_services.common.settings_builder import ServiceProject, build_settings

CONFIG = ServiceConfig.from_env("payment", os.environ)
PROJECT = ServiceProject(
    app="extracted_services.payment",
    package="extracted_services.payment",
    title="Payment service API",
    rules_file=Path(__file__).resolve().parent / "event_rules.yaml",
    handlers="extracted_services.payment.entrypoints.event_handlers.HANDLERS",
)

globals().update(build_settings(CONFIG, PROJECT))
