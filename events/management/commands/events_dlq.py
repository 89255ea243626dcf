from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

from events.dead_letters import (
    DeadLetterError,
    dead_letter_check_replayable,
    dead_letter_replay,
    dead_letters_discard,
    dead_letters_get,
    dead_letters_list,
)
from events.models import DeadLetter

_FIELDS = (
    "id", "consumer", "reason", "event_id", "event_type", "aggregate_type", "aggregate_id", "sequence", "attempts",
    "error", "created_at", "replayed_at",
)  # fmt: skip


def _record(letter: DeadLetter) -> dict[str, Any]:
    record = {name: getattr(letter, name) for name in _FIELDS}
    record["event_id"] = str(letter.event_id) if letter.event_id else None
    record["created_at"] = letter.created_at.isoformat()
    record["replayed_at"] = letter.replayed_at.isoformat() if letter.replayed_at else None
    return record


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {value!r}")
    return number


_LIST = "Dead letters, newest first: id, when, consumer, reason, event (type aggregate/id#sequence), tries, error."
_SHOW = "Every field of one dead letter, whether it can be replayed (and if not, why), and its body as JSON."
_REPLAY = (
    "Run the consumer's handlers for each dead event, each in its own transaction with its inbox entry (which "
    "becomes 'handled') and the dead letter's replayed_at. The event is applied now, out of order with later "
    "events of its aggregate. Every id is checked first (unknown, malformed, already replayed or processed, data "
    "still invalid): if one fails, nothing is replayed. A handler that fails again stops the run there."
)
_DISCARD = "Delete the dead letters, all or none: an unknown id deletes nothing."


class Command(BaseCommand):
    help = (
        "Inspect and act on dead letters (events a consumer gave up on). Replaying runs the consumer's handlers "
        "for the event now, out of order with the rest of its aggregate: that is the operator's choice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,show,replay,discard}")
        listing = actions.add_parser("list", help="list dead letters, newest first", description=_LIST)
        listing.add_argument("--consumer", help="only this consumer's")
        listing.add_argument("--reason", choices=DeadLetter.Reason.values, help="only this reason")
        listing.add_argument("--limit", type=_positive, default=50, help="at most this many (default: 50)")
        listing.add_argument("--json", action="store_true", dest="as_json", help="one JSON array instead of a table")
        show = actions.add_parser("show", help="one dead letter in full, body pretty-printed", description=_SHOW)
        show.add_argument("dead_letter_id", type=int, metavar="ID", help="the dead letter's id (from 'list')")
        replay = actions.add_parser("replay", help="run the consumer's handlers for dead events", description=_REPLAY)
        replay.add_argument("ids", type=int, nargs="+", metavar="ID", help="dead letter ids (from 'list')")
        discard = actions.add_parser("discard", help="delete dead letters", description=_DISCARD)
        discard.add_argument("ids", type=int, nargs="+", metavar="ID", help="dead letter ids (from 'list')")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except DeadLetterError as exc:
            raise CommandError(" ".join(str(exc).split()), returncode=2) from None

    def _list(self, *, consumer: str | None, reason: str | None, limit: int, as_json: bool, **_: Any) -> None:
        letters = dead_letters_list(consumer=consumer, reason=reason, limit=limit)
        if as_json:
            self.stdout.write(_dumps([_record(letter) for letter in letters]))
            return
        if not letters:
            self.stdout.write("no dead letters")
            return
        self.stdout.write(f"{'ID':>6}  {'CREATED':19}  {'CONSUMER':16}  {'REASON':14}  {'EVENT':32}  TRIES  ERROR")
        for d in letters:
            event = f"{d.event_type} {d.aggregate_type}/{d.aggregate_id}#{d.sequence}" if d.event_type else "?"
            error = d.error.splitlines()[0][:80] if d.error else ""
            mark = " (replayed)" if d.replayed_at else ""
            self.stdout.write(
                f"{d.pk:>6}  {d.created_at:%Y-%m-%d %H:%M:%S}  {d.consumer:16}  {d.reason:14}  {event:32}  "
                f"{d.attempts:>5}  {error}{mark}"
            )

    def _show(self, *, dead_letter_id: int, **_: Any) -> None:
        (letter,) = dead_letters_get(ids=[dead_letter_id])
        for name, value in _record(letter).items():
            self.stdout.write(f"{name + ':':16}{'' if value is None else value}")
        try:
            dead_letter_check_replayable(letter)
            self.stdout.write(f"{'replayable:':16}yes")
        except DeadLetterError as exc:
            self.stdout.write(f"{'replayable:':16}no: {exc}")
        self.stdout.write("body:")
        try:
            self.stdout.write(_dumps(json.loads(letter.body)))
        except ValueError:
            self.stdout.write(letter.body)

    def _replay(self, *, ids: list[int], **_: Any) -> None:
        letters = dead_letters_get(ids=ids)
        for letter in letters:  # refuse the whole request before changing anything
            dead_letter_check_replayable(letter)
        done: list[int] = []
        with tqdm(letters, unit="event", file=sys.stderr, disable=True if len(letters) == 1 else None) as bar:
            for letter in bar:
                try:
                    outcome = dead_letter_replay(dead_letter_id=letter.pk)
                except DeadLetterError as exc:
                    replayed = f"{len(done)} replayed before it" if done else "nothing replayed"
                    raise DeadLetterError(f"{exc} ({replayed}, the rest untouched)") from None
                done.append(letter.pk)
                if len(letters) == 1:
                    self.stdout.write(f"dead letter {letter.pk}: {outcome}")
        if len(letters) > 1:
            self.stdout.write(f"replayed {len(done)} dead letters")

    def _discard(self, *, ids: list[int], **_: Any) -> None:
        count = dead_letters_discard(ids=ids)
        self.stdout.write(f"discarded {count} dead letter{'s' if count != 1 else ''}")


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
