"""``python -m extracted_services.inventory dynamodb_tables create|status``: the DynamoDB adapter's tables.

``create`` makes the missing ones (on-demand capacity) and waits until they are active; running it again creates
nothing. ``status`` lists them and exits 1 when one is missing. An AWS error is one line with exit status 2.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from extracted_services.inventory import bootstrap
from extracted_services.inventory.adapters.dynamodb_tables import create_tables, missing_tables


class Command(BaseCommand):
    help = "Create the inventory service's DynamoDB tables (idempotent), or show which exist."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("create", "status"))

    def handle(self, *args: Any, **options: Any) -> None:
        db = bootstrap.dynamodb()
        try:
            if options["action"] == "create":
                for name, outcome in create_tables(db):
                    self.stdout.write(f"{outcome} {name}")
                return
            missing = set(missing_tables(db))
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"DynamoDB refused: {exc}", returncode=2) from None
        for name in db.tables.all():
            self.stdout.write(f"{'missing' if name in missing else 'exists'} {name}")
        if missing:
            raise SystemExit(1)
