"""``events_rules deploy --eventbridge`` against a moto server: the rules file becomes EventBridge rules whose SQS
targets receive exactly the events the file routes to them, and deploying again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from events.aws.codec import decode_sqs_message
from events.aws.targets import AwsDelivery, AwsTargets
from events.catalogue import Catalogue
from events.conf import get_config
from events.envelope import Envelope
from events.handlers import handler_table
from tests.integration.aws_support import counts, drain, eventbridge, make_queue, queue_arn, sqs, unique
from tests.integration.event_factories import order_data

pytestmark = pytest.mark.usefixtures("moto_endpoint")
MONOLITH_RULES = str(Path(__file__).resolve().parents[2] / "monolith" / "event_rules.yaml")


@pytest.fixture
def prefix(settings: Any) -> Iterator[str]:
    """A queue prefix of this test's own, so queues named after consumers never collide between tests."""
    prefix = unique("")
    settings.EVENTS = {**settings.EVENTS, "QUEUE_PREFIX": prefix}
    get_config.cache_clear()
    handler_table.cache_clear()
    yield prefix
    get_config.cache_clear()
    handler_table.cache_clear()


def deploy(*args: str) -> list[str]:
    out = StringIO()
    call_command("events_rules", "deploy", *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def state(bus: str) -> dict[str, Any]:
    """Every rule of ``bus`` with its pattern, state and targets, and the policy of each target queue."""
    client, found = eventbridge(), {}
    for rule in client.list_rules(EventBusName=bus)["Rules"]:
        targets = client.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
        found[rule["Name"]] = {
            "pattern": json.loads(rule["EventPattern"]), "state": rule["State"],
            "description": rule.get("Description", ""), "targets": sorted((t["Id"], t["Arn"]) for t in targets),
        }  # fmt: skip
    return found


def policy(queue_url: str) -> dict[str, Any]:
    attributes = sqs().get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]
    return dict(json.loads(attributes["Policy"]))


def order_event(event_type: str, sequence: int, *, source: str = "monolith/orders") -> Envelope:
    status = {"order.placed": "pending", "order.confirmed": "confirmed"}[event_type]
    return Envelope.new(
        type=event_type, source=source, subject="order-1", data=order_data(status, [("MUG", 1, "12.50")]),
        dataschema=Catalogue.default().uri(event_type, 1), aggregatetype="order", sequence=sequence,
    )  # fmt: skip


def test_the_monolith_rules_deploy_as_rules_whose_queues_get_only_matching_events(prefix: str) -> None:
    bus = unique("shop")
    lines = deploy("--eventbridge", bus, "--rules", MONOLITH_RULES)

    assert lines[0].startswith(f"event bus {bus}: created (arn:aws:events:")
    assert lines[1:6] == [
        f"rule reporting-tracks-sales: created -> sqs {prefix}reporting",
        f"rule inventory-replica: created -> sqs {prefix}inventory",
        f"rule payment-replica: created -> sqs {prefix}payment",
        f"rule shipment-replica: created -> sqs {prefix}shipment",
        f"rule inventory-consumes-dispatched-stock: created -> sqs {prefix}inventory",
    ]
    assert lines[6] == f"{MONOLITH_RULES}: 5 rules deployed to event bus {bus}"
    queue_url = sqs().get_queue_url(QueueName=prefix + "reporting")["QueueUrl"]
    rule_arn = eventbridge().describe_rule(Name="reporting-tracks-sales", EventBusName=bus)["Arn"]
    deployed = state(bus)
    assert sorted(deployed) == sorted(
        ["reporting-tracks-sales", "inventory-replica", "payment-replica", "shipment-replica",
         "inventory-consumes-dispatched-stock"]
    )  # fmt: skip
    assert {"reporting-tracks-sales": deployed["reporting-tracks-sales"]} == {
        "reporting-tracks-sales": {
            "pattern": {"source": ["monolith/orders"], "detail-type": ["order.confirmed", "order.cancelled"]},
            "state": "ENABLED",
            "description": "The reporting read model counts confirmed and cancelled orders.",
            "targets": [(f"sqs-{prefix}reporting", queue_arn(queue_url))],
        }
    }
    (statement,) = policy(queue_url)["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": [rule_arn]}}

    placed, confirmed = order_event("order.placed", 1), order_event("order.confirmed", 2)
    foreign = order_event("order.confirmed", 1, source="elsewhere")
    targets = AwsTargets()
    try:
        targets.send([AwsDelivery("eventbridge", bus, e.to_json().decode(), {"reporting": 0}) for e in
                      (placed, confirmed, foreign)])  # fmt: skip
    finally:
        targets.close()
    (message,) = drain(queue_url, expected=2, deadline_s=3)
    assert decode_sqs_message(message["Body"], {}, "reporting") == (confirmed.to_json().decode(), 0)


def test_deploying_again_changes_nothing(prefix: str) -> None:
    bus = unique("shop")
    deploy("--eventbridge", bus, "--rules", MONOLITH_RULES)
    before = state(bus)
    queue_url = sqs().get_queue_url(QueueName=prefix + "reporting")["QueueUrl"]
    policy_before = policy(queue_url)

    lines = deploy("--eventbridge", bus, "--rules", MONOLITH_RULES)

    assert lines[0].startswith(f"event bus {bus}: exists")
    assert lines[1] == f"rule reporting-tracks-sales: unchanged -> sqs {prefix}reporting"
    assert all(": unchanged -> " in line for line in lines[1:6]), lines
    assert state(bus) == before and policy(queue_url) == policy_before
    queues = sorted(sqs().list_queues(QueueNamePrefix=prefix).get("QueueUrls", []))
    assert len(queues) == 4 and queue_url in queues


RULES = """
rules:
  - name: audit-everything
    pattern: {"source": [{"prefix": ""}]}
    targets: [{sqs: %(audit)s}, {queue: reporting}]
  - name: stock-to-ledger
    description: ledger keeps stock movements
    pattern: {"detail-type": [{"prefix": "stock."}]}
    targets: [{queue: ledger}, {eventbridge: other-bus}]
"""


def test_changes_update_rules_and_targets_and_prune_removes_rules_not_in_the_file(prefix: str, tmp_path: Path) -> None:
    bus, audit = unique("shop"), unique("audit")
    first = tmp_path / "first.yaml"
    first.write_text(RULES % {"audit": audit})
    assert deploy("--eventbridge", bus, "--rules", str(first))[1:3] == [
        f"rule audit-everything: created -> sqs {audit}, sqs {prefix}reporting",
        f"rule stock-to-ledger: created -> sqs {prefix}ledger, eventbridge other-bus (published to by the relay)",
    ]
    reporting = sqs().get_queue_url(QueueName=prefix + "reporting")["QueueUrl"]
    audit_arns = policy(sqs().get_queue_url(QueueName=audit)["QueueUrl"])["Statement"][0]["Condition"]
    assert audit_arns["ArnEquals"]["aws:SourceArn"][0].endswith("/audit-everything")

    second = tmp_path / "second.yaml"
    second.write_text(
        RULES.split("  - name: stock-to-ledger")[0].replace("{queue: reporting}", "{queue: billing}") % {"audit": audit}
    )
    lines = deploy("--eventbridge", bus, "--rules", str(second))
    assert lines[1] == f"rule audit-everything: updated -> sqs {audit}, sqs {prefix}billing"
    assert len(lines) == 3, "without --prune the old rule stays"
    assert set(state(bus)) == {"audit-everything", "stock-to-ledger"}
    assert {t for t, _ in state(bus)["audit-everything"]["targets"]} == {f"sqs-{audit}", f"sqs-{prefix}billing"}

    lines = deploy("--eventbridge", bus, "--rules", str(second), "--prune")
    assert lines[1] == f"rule audit-everything: unchanged -> sqs {audit}, sqs {prefix}billing"
    assert lines[2] == "rule stock-to-ledger: deleted (not in the rules file)"
    assert set(state(bus)) == {"audit-everything"}
    assert counts(reporting) == (0, 0)


def test_an_existing_queue_given_by_url_is_used_as_it_is(prefix: str) -> None:
    from dataclasses import replace

    from events.aws.deploy import deploy_rules
    from events.router import Target, parse_rules

    bus, url = unique("shop"), make_queue("by-url")
    name = url.rsplit("/", 1)[-1]
    # A rules file takes https queue URLs only and moto's are http: the parsed rule gets the URL afterwards.
    (rule,) = parse_rules("rules:\n  - name: r\n    pattern: {source: [x]}\n    targets: [{sqs: placeholder}]")
    lines = list(deploy_rules([replace(rule, targets=(Target("sqs", url),))], bus=bus, queue_prefix=prefix))
    assert lines[1] == f"rule r: created -> sqs {name}"
    assert state(bus)["r"]["targets"] == [(f"sqs-{name}", queue_arn(url))]
    assert sqs().list_queues(QueueNamePrefix=name)["QueueUrls"] == [url]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--eventbridge", "bad bus"], "--eventbridge: event bus name 'bad bus' must be"),
        (["--eventbridge", "arn:aws:events:us-east-1:123456789012:event-bus/absent"], "deploying .* to event bus arn"),
    ],
    ids=["bus-name", "bus-arn-missing"],
)
def test_bad_arguments_and_aws_refusals_are_one_line_and_exit_2(args: list[str], problem: str) -> None:
    with pytest.raises(CommandError, match=problem) as caught:
        deploy(*args, "--rules", MONOLITH_RULES)
    assert caught.value.returncode == 2 and "\n" not in str(caught.value)


def test_a_bad_rules_file_is_refused_before_anything_is_deployed(tmp_path: Path) -> None:
    bus = unique("shop")
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: r\n    pattern: {source: [x]}\n    targets: [{sqs: 'no spaces'}]\n")
    with pytest.raises(CommandError, match="rule r target #1: SQS queue name 'no spaces'") as caught:
        deploy("--eventbridge", bus, "--rules", str(rules))
    assert caught.value.returncode == 2
    assert bus not in [b["Name"] for b in eventbridge().list_event_buses()["EventBuses"]]


def test_a_fifo_queue_target_gets_the_rule_as_its_message_group(prefix: str, tmp_path: Path) -> None:
    bus, name = unique("shop"), unique("audit") + ".fifo"
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"rules:\n  - name: audit\n    pattern: {{source: [monolith/orders]}}\n    targets: [{{sqs: {name}}}]\n"
    )
    deploy("--eventbridge", bus, "--rules", str(rules))
    (target,) = eventbridge().list_targets_by_rule(Rule="audit", EventBusName=bus)["Targets"]
    assert target["SqsParameters"] == {"MessageGroupId": "audit"}
    assert deploy("--eventbridge", bus, "--rules", str(rules))[1] == f"rule audit: unchanged -> sqs {name}"

    events = [order_event("order.placed", 1), order_event("order.confirmed", 2)]
    targets = AwsTargets()
    try:
        targets.send([AwsDelivery("eventbridge", bus, e.to_json().decode(), {}) for e in events])
    finally:
        targets.close()
    url = sqs().get_queue_url(QueueName=name)["QueueUrl"]
    bodies = [decode_sqs_message(m["Body"], {}, "audit")[0] for m in drain(url, expected=2)]
    assert bodies == [e.to_json().decode() for e in events]
