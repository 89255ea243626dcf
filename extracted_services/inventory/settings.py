"""Django settings of the inventory service: built from ``ServiceConfig`` (read once from the environment)."""

from __future__ import annotations

import os
from pathlib import Path

from extracted_services.common.config import ServiceConfig
from extracted_services.common.settings_builder import ServiceProject, build_settings
from extracted_services.inventory.adapters.dynamodb_config import DynamoDbSettings

PROJECT = ServiceProject(
    app="extracted_services.inventory",
    package="extracted_services.inventory",
    title="Inventory service API",
    rules_file=Path(__file__).resolve().parent / "event_rules.yaml",
    handlers="extracted_services.inventory.entrypoints.event_handlers.HANDLERS",
)
CONFIG = ServiceConfig.from_env("inventory", os.environ)

globals().update(build_settings(CONFIG, PROJECT))
INVENTORY_DYNAMODB = DynamoDbSettings.from_env(os.environ)  # used when INVENTORY_REPOSITORY=dynamodb
