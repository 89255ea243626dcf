"""``replica_receive``: feed envelopes to a consumer's inbox from a file or stdin, one JSON envelope a line.

::

    python -m extracted_services.inventory replica_receive --consumer inventory events.jsonl
    {"handled": 3, "duplicate": 1}

The same path a Celery worker takes (``events.inbox.receive``: order check, handlers, inbox entry, one
transaction), without a broker: for replaying a dump of events, and for tests. A line may be an envelope, or
``{"envelope": {...}, "previous": N}`` to pass the relay's ``previous`` stamp too. Events that must wait for
their predecessor are reported as ``waiting`` and not retried here.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.handlers import handler_table
from events.inbox import receive


class ReplicaReceiveCommand(BaseCommand):
    help = "Deliver envelopes (JSON lines, from FILE or stdin) to a consumer's inbox and print the outcomes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--consumer", required=True, help="the consumer whose handlers run")
        parser.add_argument("file", nargs="?", default="-", help="JSON lines of envelopes ('-': stdin)")

    def handle(self, *args: Any, consumer: str, file: str, **options: Any) -> None:
        known = handler_table().consumers()
        if consumer not in known:
            raise CommandError(f"--consumer {consumer!r} has no handlers (known: {', '.join(known)})", returncode=2)
        outcomes: Counter[str] = Counter()
        stream = sys.stdin if file == "-" else _open(Path(file))
        try:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    body, previous = _delivery(line, number)
                    outcomes[receive(consumer=consumer, body=body, previous=previous).kind] += 1
        finally:
            if stream is not sys.stdin:
                stream.close()
        self.stdout.write(json.dumps(dict(sorted(outcomes.items()))))


def _open(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from None


def _delivery(line: str, number: int) -> tuple[str, int | None]:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return line, None  # the inbox dead-letters it as malformed, as a worker would
    if isinstance(raw, dict) and "envelope" in raw:
        previous = raw.get("previous")
        if previous is not None and (isinstance(previous, bool) or not isinstance(previous, int)):
            raise CommandError(f"line {number}: 'previous' must be an integer", returncode=2)
        return json.dumps(raw["envelope"]), previous
    return line, None
