from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from events.models import OutboxEvent, OutboxPending
from tests.integration.relay_support import adjust

pytestmark = pytest.mark.django_db(transaction=True)


def test_prune_deletes_only_old_sent_rows_in_bounded_batches() -> None:
    for _ in range(7):
        adjust("A:MUG")
    rows = list(OutboxEvent.objects.order_by("id"))
    old, recent = timezone.now() - timedelta(days=10), timezone.now() - timedelta(hours=1)
    OutboxEvent.objects.filter(id__in=[r.id for r in rows[:5]]).update(created_at=old)
    OutboxEvent.objects.filter(id=rows[5].id).update(created_at=recent)
    OutboxEvent.objects.filter(id=rows[6].id).update(created_at=old)
    # Sent: every row but rows[6], which stays pending however old it is.
    OutboxPending.objects.exclude(id=rows[6].id).delete()

    out = io.StringIO()
    call_command("events_prune", "--older-than-days", "7", "--batch-size", "2", stdout=out)

    assert "pruned 5 sent events" in out.getvalue()
    assert list(OutboxEvent.objects.order_by("id").values_list("id", flat=True)) == [rows[5].id, rows[6].id]


def test_prune_refuses_a_zero_batch() -> None:
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("events_prune", "--batch-size", "0", stdout=io.StringIO())
