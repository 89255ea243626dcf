"""Rules that decide who receives each event, loaded from a YAML file.

::

    rules:
      - name: reporting-tracks-sales
        pattern: {"detail-type": ["order.confirmed", "order.cancelled"]}   # an EventBridge event pattern
        targets:
          - queue: reporting          # a consumer's Celery queue (the consumer's name)
          - sqs: orders-audit         # an SQS queue name or https URL
          - eventbridge: shop-bus     # an EventBridge bus name or ARN

Patterns are written against the EventBridge view of an event (``source``, ``detail-type``, ``detail``, …), so
the same file deploys as real EventBridge rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from events.aws.names import event_bus_problem, sqs_queue_problem
from events.routing import CompiledPattern, InvalidPattern, compile_pattern

TARGET_KINDS = ("queue", "sqs", "eventbridge")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

__all__ = ["Router", "RulesError", "Rule", "Target", "load_rules"]


class RulesError(ValueError):
    """The rules file is not valid; the message names the file, the rule and the problem."""


@dataclass(frozen=True)
class Target:
    kind: str
    name: str


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: dict[str, Any]
    targets: tuple[Target, ...]
    compiled: CompiledPattern
    description: str = ""


def _target(where: str, raw: Any) -> Target:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise RulesError(f"{where}: a target is one of {', '.join(TARGET_KINDS)}: <name>")
    (kind, name), = raw.items()  # fmt: skip
    if kind not in TARGET_KINDS:
        raise RulesError(f"{where}: unknown target kind {kind!r} (expected {', '.join(TARGET_KINDS)})")
    if not isinstance(name, str) or not name:
        raise RulesError(f"{where}: {kind} needs a name")
    if kind == "queue" and not _NAME.match(name):
        raise RulesError(f"{where}: queue name {name!r} may hold only letters, digits, '.', '_' and '-'")
    problem = sqs_queue_problem(name) if kind == "sqs" else event_bus_problem(name) if kind == "eventbridge" else None
    if problem:
        raise RulesError(f"{where}: {problem}")
    return Target(kind, name)


def _rule(source: str, index: int, raw: Any) -> Rule:
    if not isinstance(raw, dict):
        raise RulesError(f"{source}: rule #{index + 1} is not a mapping")
    name = raw.get("name")
    where = f"{source}: rule {name or '#' + str(index + 1)}"
    unknown = set(raw) - {"name", "pattern", "targets", "description"}
    if unknown:
        raise RulesError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise RulesError(f"{where}: 'name' must be 1-64 letters, digits, '.', '_' or '-'")
    pattern, targets = raw.get("pattern"), raw.get("targets")
    if not isinstance(pattern, dict) or not pattern:
        raise RulesError(f"{where}: 'pattern' must be a non-empty mapping")
    try:
        compiled = compile_pattern(pattern)
    except InvalidPattern as exc:
        raise RulesError(f"{where}: invalid pattern: {exc}") from None
    if not isinstance(targets, list) or not targets:
        raise RulesError(f"{where}: 'targets' must be a non-empty list")
    parsed = tuple(_target(f"{where} target #{i + 1}", t) for i, t in enumerate(targets))
    return Rule(name, pattern, parsed, compiled, str(raw.get("description", "")))


def parse_rules(text: str, source: str = "<rules>") -> list[Rule]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RulesError(f"{source}: expected a mapping with a 'rules' list")
    rules = [_rule(source, i, raw) for i, raw in enumerate(document["rules"])]
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise RulesError(f"{source}: rule name {rule.name!r} is used twice")
        seen.add(rule.name)
    return rules


def load_rules(path: Path) -> list[Rule]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_rules(text, str(path))


class Router:
    """Which rules, and so which targets, an event reaches."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def matching(self, eventbridge_event: dict[str, Any]) -> list[Rule]:
        return [rule for rule in self.rules if rule.compiled.matches(eventbridge_event)]

    def targets(self, eventbridge_event: dict[str, Any]) -> list[Target]:
        found: dict[Target, None] = {}
        for rule in self.matching(eventbridge_event):
            found.update(dict.fromkeys(rule.targets))
        return list(found)
