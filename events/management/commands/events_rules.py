from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.aws.names import event_bus_problem
from events.conf import get_config
from events.envelope import Envelope, EnvelopeError
from events.management.rules_file import load_router
from events.router import Router, Rule

_CHECK = (
    "Validate the rules file and print each rule with its targets and pattern. With --event, also print which "
    "rules the event hits and where it would be delivered. The event file holds a CloudEvents envelope (as the "
    "outbox writes it) or an event as EventBridge sees it (with 'detail-type' and 'detail')."
)
_DEPLOY = (
    "Deploy the rules as EventBridge rules on BUS (created if missing): for each rule, put_rule with its pattern "
    "and one SQS target per 'queue:' target (a queue named after the consumer's queue) and per 'sqs:' target; "
    "queues given by name are created if missing, and each queue's policy lets EventBridge send from exactly the "
    "rules that target it. 'eventbridge:' targets are published to by the relay and not deployed. Running it "
    "again changes nothing. AWS credentials, region and endpoint come from the usual AWS environment "
    "(AWS_PROFILE, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, ...)."
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
    help = (
        "Work with the event routing rules file (EventBridge patterns and their targets): 'check' validates it and "
        "routes a sample event; 'deploy --eventbridge BUS' makes it real EventBridge rules delivering to SQS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{check,deploy}")
        check = actions.add_parser("check", help="validate the rules; optionally test an event against them",
                                   description=_CHECK)  # fmt: skip
        check.add_argument("--rules", type=Path, default=None, help="rules file (default: EVENTS RULES_FILE)")
        check.add_argument("--event", type=Path, default=None, metavar="FILE.json", help="an event to route")
        deploy = actions.add_parser("deploy", help="deploy the rules as EventBridge rules with SQS targets",
                                    description=_DEPLOY)  # fmt: skip
        deploy.add_argument("--eventbridge", required=True, metavar="BUS", help="event bus name or ARN")
        deploy.add_argument("--rules", type=Path, default=None, help="rules file (default: EVENTS RULES_FILE)")
        deploy.add_argument("--prune", action="store_true", help="delete the bus's rules that the file does not have")

    def handle(self, *args: Any, action: str, rules: Path | None, **options: Any) -> None:
        if action == "deploy":
            self._deploy(rules, options["eventbridge"], options["prune"])
            return
        path, router = load_router(rules)
        event: Path | None = options["event"]
        self.stdout.write(f"{path}: {len(router.rules)} rule{'s' if len(router.rules) != 1 else ''}, valid")
        for rule in router.rules:
            self.stdout.write(f"  {rule.name} -> {_targets(rule)}")
            if rule.description:
                self.stdout.write(f"    {rule.description}")
            self.stdout.write(f"    pattern: {json.dumps(rule.pattern, separators=(', ', ': '))}")
        if event is not None:
            self._route(router, event)

    def _deploy(self, rules: Path | None, bus: str, prune: bool) -> None:
        problem = event_bus_problem(bus)
        if problem:
            raise CommandError(f"--eventbridge: {problem}", returncode=2)
        path, router = load_router(rules)
        from botocore.exceptions import BotoCoreError, ClientError

        from events.aws.deploy import DeployError, deploy_rules

        try:
            for line in deploy_rules(router.rules, bus=bus, queue_prefix=get_config().queue_prefix, prune=prune):
                self.stdout.write(line)
        except (BotoCoreError, ClientError, DeployError) as exc:
            raise CommandError(f"deploying {path} to event bus {bus}: {exc}", returncode=2) from None
        count = len(router.rules)
        self.stdout.write(f"{path}: {count} rule{'s' if count != 1 else ''} deployed to event bus {bus}")

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
