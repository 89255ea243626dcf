from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.envelope import Envelope, EnvelopeError
from events.management.rules_file import load_router
from events.router import Router, Rule

_CHECK = (
    "Validate the rules file and print each rule with its targets and pattern. With --event, also print which "
    "rules the event hits and where it would be delivered. The event file holds a CloudEvents envelope (as the "
    "outbox writes it) or an event as EventBridge sees it (with 'detail-type' and 'detail')."
)


def _targets(rule: Rule) -> str:
    return ", ".join(f"{target.kind} {target.name}" for target in rule.targets)


def read_event(path: Path) -> dict[str, Any]:
    """The EventBridge view of the event in ``path``; ``CommandError`` (exit 2) naming the file if it is not one."""
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise CommandError(f"{path}: cannot read: {exc.strerror}", returncode=2) from None
    except ValueError as exc:
        raise CommandError(f"{path}: not JSON: {exc}", returncode=2) from None
    if not isinstance(raw, dict):
        raise CommandError(f"{path}: an event is a JSON object", returncode=2)
    if "detail-type" in raw:
        return raw
    try:
        return Envelope.from_dict(raw).eventbridge_view()
    except (EnvelopeError, TypeError) as exc:
        raise CommandError(
            f"{path}: not a CloudEvents envelope ({exc}) nor an EventBridge event", returncode=2
        ) from None


class Command(BaseCommand):
    help = "Work with the event routing rules file (EventBridge patterns and their targets)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{check}")
        check = actions.add_parser("check", help="validate the rules; optionally test an event against them",
                                   description=_CHECK)  # fmt: skip
        check.add_argument("--rules", type=Path, default=None, help="rules file (default: EVENTS RULES_FILE)")
        check.add_argument("--event", type=Path, default=None, metavar="FILE.json", help="an event to route")

    def handle(self, *args: Any, action: str, rules: Path | None, event: Path | None, **options: Any) -> None:
        path, router = load_router(rules)
        self.stdout.write(f"{path}: {len(router.rules)} rule{'s' if len(router.rules) != 1 else ''}, valid")
        for rule in router.rules:
            self.stdout.write(f"  {rule.name} -> {_targets(rule)}")
            if rule.description:
                self.stdout.write(f"    {rule.description}")
            self.stdout.write(f"    pattern: {json.dumps(rule.pattern, separators=(', ', ': '))}")
        if event is not None:
            self._route(router, event)

    def _route(self, router: Router, path: Path) -> None:
        view = read_event(path)
        hits = router.matching(view)
        label = f"event {view.get('detail-type')!s} from {view.get('source')!s}"
        if not hits:
            self.stdout.write(f"{label} hits no rule: it would be delivered nowhere")
            return
        self.stdout.write(f"{label} hits {len(hits)} rule{'s' if len(hits) != 1 else ''}:")
        for rule in hits:
            self.stdout.write(f"  {rule.name} -> {_targets(rule)}")
        targets = ", ".join(f"{target.kind} {target.name}" for target in router.targets(view))
        self.stdout.write(f"delivered to: {targets}")
