"""``python -m extracted_services.inventory dynamodb_outbox drain [--once] [--interval S]`` and ``... pending``.

``drain`` moves the events the DynamoDB adapter committed into the service's events outbox (where
``events_relay`` ships them), once each and in each aggregate's order (``adapters/dynamodb_outbox.py``). Without
``--once`` it keeps polling every ``--interval`` seconds until SIGTERM or SIGINT, which let the pass in hand
finish. Several drains may run at once. ``--once`` empties the outbox and exits: 0, or 1 when an event could not be
published (logged; it stays for the next run). ``pending`` prints how many events wait. An AWS error or a bad
option is one line with exit status 2.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from extracted_services.inventory import bootstrap
from extracted_services.inventory.adapters.dynamodb_outbox import DrainReport


def _summary(report: DrainReport) -> str:
    return f"moved {report.moved}, already moved {report.duplicates}, waiting {report.waiting}, failed {report.failed}"


class Command(BaseCommand):
    help = "Move the events committed on DynamoDB into the service's events outbox (or count them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("drain", "pending"))
        parser.add_argument("--once", action="store_true", help="empty the outbox once and exit")
        parser.add_argument("--interval", default="1", help="seconds between polls (default: 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            interval = float(options["interval"])
        except ValueError:
            interval = -1.0
        if not 0.05 <= interval <= 3600:
            raise CommandError(f"--interval must be from 0.05 to 3600 seconds, got {options['interval']}", returncode=2)
        drain = bootstrap.outbox_drain()
        try:
            if options["action"] == "pending":
                self.stdout.write(str(drain.pending()))
            elif options["once"]:
                report = drain.drain()
                self.stdout.write(_summary(report))
                if report.failed:
                    raise SystemExit(1)
            else:
                self._loop(interval)
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"DynamoDB refused: {exc}", returncode=2) from None

    def _loop(self, interval: float) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        drain = bootstrap.outbox_drain()
        while not stop.is_set():
            close_old_connections()
            report = drain.drain()
            if report.moved or report.duplicates or report.failed:
                self.stdout.write(_summary(report))
            stop.wait(interval)
