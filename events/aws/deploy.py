"""A rules file deployed as EventBridge rules on one bus, each delivering to SQS queues.

::

    for line in deploy_rules(router.rules, bus="shop", queue_prefix="", prune=True):
        print(line)       # "rule reporting-tracks-sales: created -> sqs reporting"

Each ``queue: <consumer>`` target becomes an SQS queue named after the consumer's queue and each ``sqs:`` target
its queue (both created when missing and given by name); the queue's policy lets EventBridge send from exactly
the rules that target it. ``eventbridge:`` targets are left to the relay, which publishes to those buses itself.
Running it again changes nothing; ``prune`` deletes the bus's rules that the file no longer has.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from events.aws.names import event_bus_name, is_queue_url, sqs_queue_name
from events.aws.targets import client_config
from events.router import Rule

__all__ = ["DeployError", "deploy_rules"]


class DeployError(RuntimeError):
    """AWS refused part of a deployment; the message names the bus, rule or queue concerned."""


@dataclass
class _Queue:
    url: str
    arn: str
    rule_arns: list[str] = field(default_factory=list)


def _target_id(queue_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"sqs-{queue_name}")[:64]


class _Deployment:
    def __init__(self, bus: str, queue_prefix: str, session: boto3.session.Session) -> None:
        self.bus, self.queue_prefix = bus, queue_prefix
        self.events = session.client("events", config=client_config())
        self.sqs = session.client("sqs", config=client_config())
        self.queues: dict[str, _Queue] = {}

    def ensure_bus(self) -> str:
        try:
            return f"event bus {self.bus}: exists ({self.events.describe_event_bus(Name=self.bus)['Arn']})"
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException" or self.bus.startswith("arn:"):
                raise
        return f"event bus {self.bus}: created ({self.events.create_event_bus(Name=self.bus)['EventBusArn']})"

    def queue(self, name_or_url: str) -> _Queue:
        key = sqs_queue_name(name_or_url)
        if key not in self.queues:
            if is_queue_url(name_or_url):
                url = name_or_url
            else:
                try:
                    url = self.sqs.get_queue_url(QueueName=key)["QueueUrl"]
                except ClientError as exc:
                    if exc.response["Error"]["Code"] not in ("AWS.SimpleQueueService.NonExistentQueue",
                                                             "QueueDoesNotExist"):  # fmt: skip
                        raise
                    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}  # as EventBridge requires
                    attributes = fifo if key.endswith(".fifo") else {}
                    url = self.sqs.create_queue(QueueName=key, Attributes=attributes)["QueueUrl"]
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.queues[key] = _Queue(url, arn)
        return self.queues[key]

    def rule(self, rule: Rule) -> str:
        queues = [
            self.queue(self.queue_prefix + t.name if t.kind == "queue" else t.name)
            for t in rule.targets
            if t.kind in ("queue", "sqs")
        ]  # fmt: skip
        wanted = {_target_id(q.arn.rsplit(":", 1)[-1]): self._target(rule, q) for q in queues}
        pattern = json.dumps(rule.pattern, separators=(",", ":"), sort_keys=True)
        try:
            current = self.events.describe_rule(Name=rule.name, EventBusName=self.bus)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            current = None
        rule_changed = current is None or not self._same(current, rule, pattern)
        rule_arn = self._put_rule(rule, pattern) if rule_changed else str(current["Arn"])
        existing = {
            t["Id"]: {k: t[k] for k in ("Id", "Arn", "SqsParameters") if k in t} for t in self._targets(rule.name)
        }
        stale = sorted(set(existing) - set(wanted))
        if stale:
            self.events.remove_targets(Rule=rule.name, EventBusName=self.bus, Ids=stale)
        if existing != wanted and wanted:
            targets = list(wanted.values())
            self._check(self.events.put_targets(Rule=rule.name, EventBusName=self.bus, Targets=targets), rule.name)
        for queue in queues:
            queue.rule_arns.append(rule_arn)
        state = "created" if current is None else "updated" if rule_changed or existing != wanted else "unchanged"
        names = [f"sqs {q.arn.rsplit(':', 1)[-1]}" for q in queues]
        skipped = [f"eventbridge {t.name} (published to by the relay)" for t in rule.targets if t.kind == "eventbridge"]
        return f"rule {rule.name}: {state} -> {', '.join(names + skipped)}"

    @staticmethod
    def _target(rule: Rule, queue: _Queue) -> dict[str, Any]:
        target: dict[str, Any] = {"Id": _target_id(queue.arn.rsplit(":", 1)[-1]), "Arn": queue.arn}
        if queue.arn.endswith(".fifo"):
            # EventBridge gives a FIFO queue one static message group: the rule's events stay in one line.
            target["SqsParameters"] = {"MessageGroupId": rule.name}
        return target

    def _put_rule(self, rule: Rule, pattern: str) -> str:
        response = self.events.put_rule(
            Name=rule.name, EventBusName=self.bus, EventPattern=pattern, State="ENABLED",
            Description=rule.description[:512],
        )  # fmt: skip
        return str(response["RuleArn"])

    @staticmethod
    def _same(current: dict[str, Any], rule: Rule, pattern: str) -> bool:
        return (
            json.loads(current.get("EventPattern") or "null") == json.loads(pattern)
            and current.get("State") == "ENABLED"
            and (current.get("Description") or "") == rule.description[:512]
        )

    def _targets(self, rule_name: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"Rule": rule_name, "EventBusName": self.bus}
        while True:
            page = self.events.list_targets_by_rule(**kwargs)
            yield from page.get("Targets", [])
            if not page.get("NextToken"):
                return
            kwargs["NextToken"] = page["NextToken"]

    @staticmethod
    def _check(response: dict[str, Any], rule_name: str) -> None:
        if response.get("FailedEntryCount"):
            first = response["FailedEntries"][0]
            raise DeployError(f"rule {rule_name}: target {first.get('TargetId')} refused: {first.get('ErrorMessage')}")

    def grant(self) -> None:
        """Let EventBridge send to each queue from the rules that target it (one statement per bus)."""
        sid = "EventBridgeRules" + re.sub(r"[^A-Za-z0-9]", "", event_bus_name(self.bus).title())
        for queue in self.queues.values():
            raw = self.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["Policy"])
            policy = json.loads(raw.get("Attributes", {}).get("Policy") or '{"Version": "2012-10-17", "Statement": []}')
            others = [s for s in policy.get("Statement", []) if s.get("Sid") != sid]
            statement = {
                "Sid": sid, "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": queue.arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(set(queue.rule_arns))}},
            }  # fmt: skip
            wanted = {"Version": policy.get("Version", "2012-10-17"), "Statement": [*others, statement]}
            if wanted != policy:
                self.sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={"Policy": json.dumps(wanted)})

    def prune(self, keep: set[str]) -> Iterator[str]:
        kwargs: dict[str, Any] = {"EventBusName": self.bus}
        doomed: list[str] = []
        while True:
            page = self.events.list_rules(**kwargs)
            doomed += [r["Name"] for r in page.get("Rules", []) if r["Name"] not in keep and not r.get("ManagedBy")]
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        for name in doomed:
            ids = [t["Id"] for t in self._targets(name)]
            if ids:
                self.events.remove_targets(Rule=name, EventBusName=self.bus, Ids=ids)
            self.events.delete_rule(Name=name, EventBusName=self.bus)
            yield f"rule {name}: deleted (not in the rules file)"


def deploy_rules(
    rules: Sequence[Rule], *, bus: str, queue_prefix: str = "", prune: bool = False, session_kwargs: Any = None
) -> Iterator[str]:
    """Deploy ``rules`` on ``bus``, yielding a line for the bus, then one per rule (and pruned rule) as each is done."""
    deployment = _Deployment(bus, queue_prefix, boto3.session.Session(**(session_kwargs or {})))
    yield deployment.ensure_bus()
    for rule in rules:
        yield deployment.rule(rule)
    deployment.grant()
    if prune:
        yield from deployment.prune({rule.name for rule in rules})
