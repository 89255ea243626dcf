"""A rules file names queue, SQS and EventBridge targets; a malformed name is refused in one line."""

from __future__ import annotations

import pytest

from events.aws.names import event_bus_name, sqs_queue_name
from events.router import RulesError, Target, parse_rules


def rules_with(target: str) -> str:
    return f"rules:\n  - name: r\n    pattern: {{source: [x]}}\n    targets: [{target}]\n"


@pytest.mark.parametrize(
    ("target", "parsed"),
    [
        ("{queue: reporting}", Target("queue", "reporting")),
        ("{sqs: orders-audit}", Target("sqs", "orders-audit")),
        ("{sqs: orders.fifo}", Target("sqs", "orders.fifo")),
        (
            "{sqs: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders_audit'}",
            Target("sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders_audit"),
        ),
        ("{eventbridge: shop-bus}", Target("eventbridge", "shop-bus")),
        (
            "{eventbridge: 'arn:aws:events:eu-west-1:123456789012:event-bus/shop'}",
            Target("eventbridge", "arn:aws:events:eu-west-1:123456789012:event-bus/shop"),
        ),
    ],
)
def test_valid_targets_parse(target: str, parsed: Target) -> None:
    assert parse_rules(rules_with(target))[0].targets == (parsed,)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("{sqs: 'orders audit'}", "SQS queue name 'orders audit' must be 1-80 letters"),
        ("{sqs: " + "q" * 81 + "}", "must be 1-80"),
        ("{sqs: 'http://sqs.eu-west-1.amazonaws.com/123456789012/q'}", "must use https"),
        ("{sqs: 'https://sqs.eu-west-1.amazonaws.com/q'}", "is not an SQS queue URL"),
        ("{sqs: ''}", "sqs needs a name"),
        ("{eventbridge: 'shop bus'}", "event bus name 'shop bus' must be 1-256"),
        ("{eventbridge: 'arn:aws:sqs:eu-west-1:123456789012:q'}", "is not an event bus ARN"),
        ("{sns: topic}", "unknown target kind 'sns' (expected queue, sqs, eventbridge)"),
    ],
)
def test_a_bad_target_name_is_refused_naming_the_rule_and_target(target: str, problem: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(rules_with(target), "rules.yaml")
    message = str(caught.value)
    assert message.startswith("rules.yaml: rule r target #1: ") and problem in message and "\n" not in message


def test_names_come_out_of_urls_and_arns() -> None:
    assert sqs_queue_name("https://sqs.eu-west-1.amazonaws.com/123456789012/audit.fifo") == "audit.fifo"
    assert sqs_queue_name("audit") == "audit"
    assert event_bus_name("arn:aws:events:eu-west-1:123456789012:event-bus/shop") == "shop"
    assert event_bus_name("shop") == "shop"
