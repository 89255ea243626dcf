from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

from events.catalogue import Catalogue
from events.conf import get_config
from events.models import OutboxEvent, OutboxPending
from events.replay import ReplayError, ReplayRange, archived_events, check_consumer, replay
from events.transports import TransportError, open_transport

PREVIEW = 10


def _timestamp(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 timestamp (e.g. 2025-01-31T12:00Z)") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _batch_size(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {value!r}")
    return int(value)


class Command(BaseCommand):
    help = (
        "Re-deliver archived outbox events (sent or not) to ONE consumer's queue, to rebuild or backfill its data. "
        "Events go out in (aggregate, sequence) order with 'previous' chained per aggregate, so the consumer "
        "applies them in order. Its inbox drops every event at or below its position for that aggregate (so a "
        "rerun is safe, and only a consumer that is new or behind gets anything). Naive timestamps are in the "
        "project's TIME_ZONE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--consumer", required=True, help="the consumer to deliver to (its queue: prefix + name)")
        parser.add_argument("--type", action="append", default=[], dest="types", metavar="TYPE",
                            help="only this event type (repeatable)")  # fmt: skip
        parser.add_argument("--since", type=_timestamp, help="only events created at or after this time")
        parser.add_argument("--until", type=_timestamp, help="only events created before this time")
        parser.add_argument("--subject", help="only this aggregate id")
        parser.add_argument("--aggregate-type", help="only aggregates of this type (e.g. order)")
        parser.add_argument("--batch-size", type=_batch_size, default=None,
                            help="events per broker write (default: EVENTS BATCH_SIZE)")  # fmt: skip
        parser.add_argument(
            "--dry-run", action="store_true", help=f"print the count and the first {PREVIEW}, send nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = get_config()
        consumer: str = options["consumer"]
        selection = ReplayRange(
            types=tuple(dict.fromkeys(options["types"])), since=options["since"], until=options["until"],
            subject=options["subject"], aggregate_type=options["aggregate_type"],
        )  # fmt: skip
        try:
            check_consumer(consumer)
            selection.check(Catalogue.default())
        except ReplayError as exc:
            raise CommandError(str(exc), returncode=2) from None
        queue = config.queue_prefix + consumer
        total = archived_events(selection).count()
        if options["dry_run"]:
            self._preview(selection, total, consumer, queue)
            return
        if total == 0:
            self.stdout.write("nothing to replay: no archived event matches")
            return
        self._send(selection, total, consumer, queue, options["batch_size"] or config.batch_size)

    def _preview(self, selection: ReplayRange, total: int, consumer: str, queue: str) -> None:
        self.stdout.write(f"would replay {total} events to consumer {consumer} (queue {queue})")
        shown = list(archived_events(selection)[:PREVIEW])
        pending = set(OutboxPending.objects.filter(id__in=[e.id for e in shown]).values_list("id", flat=True))
        for event in shown:
            self.stdout.write(f"  {_describe(event, event.id in pending)}")
        if total > PREVIEW:
            self.stdout.write(f"  ... and {total - PREVIEW} more")

    def _send(self, selection: ReplayRange, total: int, consumer: str, queue: str, batch_size: int) -> None:
        config = get_config()
        transport = open_transport(config.broker_url, config.broker_options)
        try:
            with tqdm(total=total, unit="event", file=sys.stderr, disable=None) as bar:
                stats = replay(
                    selection, consumer=consumer, queue=queue, transport=transport, batch_size=batch_size,
                    on_batch=bar.update,
                )  # fmt: skip
        except TransportError as exc:
            raise CommandError(f"the broker did not take a batch ({exc}); rerunning is safe") from None
        finally:
            transport.close()
        self.stdout.write(
            f"replayed {stats.events} events of {stats.aggregates} aggregates to consumer {consumer} "
            f"(queue {queue}) in {stats.batches} batches"
        )


def _describe(event: OutboxEvent, pending: bool) -> str:
    sent = "not sent yet" if pending else "sent"
    where = f"{event.aggregate_type}/{event.aggregate_id}#{event.sequence}"
    return f"{event.created_at:%Y-%m-%d %H:%M:%S}  {event.event_type:24} {where}  {event.event_id}  ({sent})"
