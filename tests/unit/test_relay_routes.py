"""Routing an outbox row: cached per (source, type) when the rules allow it, the full view otherwise."""

from __future__ import annotations

import json

from events.relay.routes import Routes
from events.router import Router, parse_rules


def routes(rules: str) -> Routes:
    return Routes(Router(parse_rules(rules)))


def envelope(source: str, type_: str, data: dict[str, object]) -> dict[str, object]:
    return {"specversion": "1.0", "id": "e", "source": source, "type": type_, "time": "2026-01-01T00:00:00Z",
            "subject": "1", "aggregatetype": "order", "sequence": 1, "data": data}  # fmt: skip


TYPE_RULES = """
rules:
  - {name: a, pattern: {source: [{prefix: "monolith/"}], detail-type: [order.confirmed]}, targets: [{queue: reporting}]}
  - {name: b, pattern: {detail-type: [{anything-but: [order.placed]}]}, targets: [{queue: audit}, {queue: reporting}]}
"""


def test_rules_on_source_and_type_are_decided_once_per_type_without_reading_the_payload() -> None:
    r = routes(TYPE_RULES)
    assert r.by_header
    assert [t.name for t in r.targets("monolith/orders", "order.confirmed", "not even JSON")] == ["reporting", "audit"]
    assert r.targets("monolith/orders", "order.placed", "") == ()
    assert r.consumers(envelope("elsewhere", "order.confirmed", {})) == ["audit", "reporting"]


def test_a_rule_on_detail_makes_every_event_match_its_full_view() -> None:
    r = routes("""
rules:
  - {name: big, pattern: {detail: {total: [{numeric: [">", 100]}]}}, targets: [{queue: vip}]}
""")
    assert not r.by_header
    big, small = envelope("s", "order.placed", {"total": 250}), envelope("s", "order.placed", {"total": 5})
    assert [t.name for t in r.targets("s", "order.placed", json.dumps(big))] == ["vip"]
    assert r.targets("s", "order.placed", json.dumps(small)) == ()
    assert r.consumers(big) == ["vip"] and r.consumers(small) == []
