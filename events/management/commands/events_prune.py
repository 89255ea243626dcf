from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from events.conf import get_config
from events.models import OutboxEvent, OutboxPending


class Command(BaseCommand):
    help = "Delete sent outbox rows created before the retention, in bounded batches (unsent rows are never touched)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-days", type=float, default=None, help="default: EVENTS RETENTION_DAYS")
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: Any, older_than_days: float | None, batch_size: int, **options: Any) -> None:
        days = get_config().retention_days if older_than_days is None else older_than_days
        if days < 0 or batch_size < 1:
            raise CommandError("--older-than-days must be >= 0 and --batch-size >= 1", returncode=2)
        cutoff = timezone.now() - timedelta(days=days)
        total = 0
        while True:
            with transaction.atomic():
                ids = list(
                    OutboxEvent.objects.filter(created_at__lt=cutoff)
                    .exclude(Exists(OutboxPending.objects.filter(id=OuterRef("id"))))
                    .order_by("created_at", "id")
                    .values_list("id", flat=True)[:batch_size]
                )
                if not ids:
                    break
                OutboxEvent.objects.filter(id__in=ids).delete()
            total += len(ids)
        self.stdout.write(f"pruned {total} sent events older than {days:g} days")
