from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from monolith.api.auth import issue_access_token


class Command(BaseCommand):
    help = "Print an access token for USERNAME (for curl, scripts and benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            self.stderr.write(f"issue_token: no user named {username!r}")
            raise SystemExit(2)
        self.stdout.write(issue_access_token(user))
