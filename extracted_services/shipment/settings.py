"""Django settings for the shipment service, built by the shared builder from ``ServiceConfig`` (read once)."""

from __future__ import annotations

import os
from pathlib import Path

from extracted_services.common.config import ServiceConfig
from extracted_services.common.settings_builder import ServiceProject, build_settings

CONFIG = ServiceConfig.from_env("shipment", os.environ)
PROJECT = ServiceProject(
    app="extracted_services.shipment",
    package="extracted_services.shipment",
    title="Shipment service API",
    rules_file=Path(__file__).resolve().parent / "event_rules.yaml",
    handlers="extracted_services.shipment.entrypoints.event_handlers.HANDLERS",
)

globals().update(build_settings(CONFIG, PROJECT))
