from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from strangler_proxy.buckets import BUCKETS, bucket_of, choose_side, in_canary, sticky_key
from strangler_proxy.model import KeySource, Mode, Side, Sticky


# Regression guard, computed once with BLAKE2b-64 mod 10,000: if one changes, every live canary reshuffles its
# customers between the monolith and the service. Change them only together with a migration note.
@pytest.mark.parametrize(
    ("key", "bucket"),
    [
        ("customer-42", 1354),
        ("42", 1738),
        ("", 9876),
        ("ünïcödé", 4869),
        ("1b4e28ba-2fa1-11d2-883f-0016d3cca427", 375),
    ],
)
def test_buckets_are_stable(key: str, bucket: int) -> None:
    assert bucket_of(key) == bucket


def test_buckets_are_roughly_uniform_over_100k_keys() -> None:
    counts = Counter(bucket_of(f"customer-{number}") // 100 for number in range(100_000))
    expected = 100_000 / 100
    chi_square = sum((counts.get(cell, 0) - expected) ** 2 / expected for cell in range(100))
    # 99 degrees of freedom: mean 99, standard deviation 14; 200 is beyond 7 standard deviations.
    assert chi_square < 200
    assert set(counts) == set(range(100))


@pytest.mark.parametrize(("percent", "owned"), [(0, 0), (0.07, 7), (0.01, 1), (5, 500), (33.33, 3333), (100, 10000)])
def test_a_percent_owns_exactly_its_hundredths_of_buckets(percent: float, owned: int) -> None:
    assert sum(in_canary(bucket, percent) for bucket in range(BUCKETS)) == owned


def test_raising_the_percent_only_adds_buckets() -> None:
    percents = [step / 100 for step in range(0, 10_001, 7)] + [0.07, 0.29, 57.57, 99.99, 100.0]
    previous: set[int] = set()
    for percent in sorted(percents):
        current = {bucket for bucket in range(0, BUCKETS, 13) if in_canary(bucket, percent)}
        assert previous <= current, percent
        previous = current


@pytest.mark.parametrize(
    ("mode", "percent", "key", "default", "side"),
    [
        (Mode.MONOLITH, 100, "k", Side.SERVICE, Side.MONOLITH),
        (Mode.SHADOW, 100, "k", Side.SERVICE, Side.MONOLITH),
        (Mode.SERVICE, 0, None, Side.MONOLITH, Side.SERVICE),
        (Mode.CANARY, 0, None, Side.SERVICE, Side.MONOLITH),
        (Mode.CANARY, 100, None, Side.MONOLITH, Side.SERVICE),
        (Mode.CANARY, 50, None, Side.SERVICE, Side.SERVICE),
        (Mode.CANARY, 50, None, Side.MONOLITH, Side.MONOLITH),
        (Mode.CANARY, 13.54, "customer-42", Side.MONOLITH, Side.MONOLITH),  # bucket 1354 is the 1355th
        (Mode.CANARY, 13.55, "customer-42", Side.MONOLITH, Side.SERVICE),
    ],
)
def test_choose_side(mode: Mode, percent: float, key: str | None, default: Side, side: Side) -> None:
    assert choose_side(mode, percent, key, default) is side


def test_canary_share_of_keys_follows_the_percent() -> None:
    chosen = [choose_side(Mode.CANARY, 10, f"cart-{n}", Side.MONOLITH) for n in range(20_000)]
    assert 0.09 < chosen.count(Side.SERVICE) / len(chosen) < 0.11


def _key(source: KeySource, name: str, **request: Any) -> str | None:
    body = request.pop("body", None)
    calls: list[None] = []

    def json_body() -> Any:
        calls.append(None)
        try:
            return json.loads(body) if body is not None else None
        except ValueError:
            return None

    defaults: dict[str, Any] = {"headers": {}, "cookies": None, "query": "", "params": {}}
    key = sticky_key(Sticky(source=source, name=name), json_body=json_body, **(defaults | request))
    assert len(calls) == (1 if source is KeySource.JSON else 0), "the body is read only for a JSON key"
    return key


@pytest.mark.parametrize(
    ("source", "name", "request_parts", "expected"),
    [
        (KeySource.HEADER, "x-customer-id", {"headers": {"X-Customer-Id": " 42 "}}, "42"),
        (KeySource.HEADER, "X-Customer-Id", {"headers": {"x-customer-id": "42"}}, "42"),
        (KeySource.HEADER, "x-customer-id", {"headers": {"x-other": "42"}}, None),
        (KeySource.HEADER, "x-customer-id", {"headers": {"x-customer-id": ""}}, None),
        (KeySource.COOKIE, "cart", {"cookies": "a=1; cart=c-9; b=2"}, "c-9"),
        (KeySource.COOKIE, "cart", {"cookies": 'broken; cart="c-9"'}, "c-9"),
        (KeySource.COOKIE, "cart", {"cookies": "carts=1; xcart=2"}, None),
        (KeySource.COOKIE, "cart", {"cookies": None}, None),
        (KeySource.QUERY, "customer", {"query": "a=1&customer=c%2B7&customer=8"}, "c+7"),
        (KeySource.QUERY, "customer", {"query": "customer="}, None),
        (KeySource.QUERY, "customer", {"query": ""}, None),
        (KeySource.PATH, "order_id", {"params": {"order_id": 42}}, "42"),
        (KeySource.PATH, "order_id", {"params": {"order_id": "abc"}}, "abc"),
        (KeySource.PATH, "order_id", {"params": {}}, None),
        (KeySource.JSON, "customer.id", {"body": '{"customer": {"id": 42}}'}, "42"),
        (KeySource.JSON, "customer.id", {"body": '{"customer": {"id": 42.0}}'}, "42"),
        (KeySource.JSON, "customer.id", {"body": '{"customer": {"id": "42"}}'}, "42"),
        (KeySource.JSON, "customer.id", {"body": '{"customer": {"id": 4.5}}'}, "4.5"),
        (KeySource.JSON, "lines.0.sku", {"body": '{"lines": [{"sku": "MUG"}]}'}, "MUG"),
        (KeySource.JSON, "lines.1.sku", {"body": '{"lines": [{"sku": "MUG"}]}'}, None),
        (KeySource.JSON, "customer.id", {"body": '{"customer": {"id": true}}'}, None),
        (KeySource.JSON, "customer.id", {"body": '{"customer": {"id": {"x": 1}}}'}, None),
        (KeySource.JSON, "customer.id", {"body": '{"customer": 42}'}, None),
        (KeySource.JSON, "customer.id", {"body": '["customer"]'}, None),
        (KeySource.JSON, "customer.id", {"body": '{"customer": {"id": 4'}, None),  # malformed
        (KeySource.JSON, "customer.id", {}, None),  # no body
    ],
)
def test_sticky_key_sources(source: KeySource, name: str, request_parts: dict[str, Any], expected: str | None) -> None:
    assert _key(source, name, **request_parts) == expected


def test_a_number_and_its_text_land_in_the_same_bucket() -> None:
    from_json = _key(KeySource.JSON, "order", body='{"order": 42}')
    from_header = _key(KeySource.HEADER, "x-order", headers={"x-order": "42"})
    assert from_json == from_header == "42"
