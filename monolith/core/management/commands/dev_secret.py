from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Write a random development secret to PATH (mode 0600) unless the file exists; `make run` keeps the "
        "internal token of the cut-over barrier (STRANGLER_INTERNAL_TOKEN) in var/internal-token this way."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        if path.is_dir():
            self.stderr.write(f"dev_secret: {path} is a directory")
            raise SystemExit(2)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
