"""A request's sticky bucket: the sources a key is read from, key order, fallback, record ids carrying buckets."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from strangler_proxy.buckets import bucket_of
from strangler_proxy.model import KeySource, Side, Sticky, StickyKey
from strangler_proxy.record_ids import mint_record_id
from strangler_proxy.sticky import key_value, request_bucket


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
    key = key_value(StickyKey(source=source, name=name), json_body=json_body, **(defaults | request))
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


PAYMENT = Sticky(keys=(
    StickyKey(source=KeySource.JSON, name="order_id"),
    StickyKey(source=KeySource.QUERY, name="order_id"),
    StickyKey(source=KeySource.PATH, name="payment_id", embedded=True),
))  # fmt: skip


def _bucket(sticky: Sticky = PAYMENT, *, body: Any = None, query: str = "", **params: Any) -> int | None:
    return request_bucket(sticky, headers={}, cookies=None, query=query, params=params, json_body=lambda: body)


def test_the_first_key_present_picks_the_bucket() -> None:
    minted = mint_record_id(7)
    assert _bucket(body={"order_id": "o-1"}, query="order_id=o-2", payment_id=str(minted)) == bucket_of("o-1")
    assert _bucket(body={"other": 1}, query="order_id=o-2", payment_id=str(minted)) == bucket_of("o-2")
    assert _bucket(body=None, query="", payment_id=str(minted)) == 10_000, "the monolith's record: in no canary"
    assert _bucket() is None


def test_an_embedded_key_routes_by_the_creator_inside_the_id_not_a_hash_of_it() -> None:
    """The service's records are in every canary (bucket 0), the monolith's in none (10,000), whatever the order's
    bucket: a record stays with the side that created it until cut-over."""
    hashed = Sticky(keys=(StickyKey(source=KeySource.PATH, name="payment_id"),))
    for creator, expected in ((Side.SERVICE, 0), (Side.MONOLITH, 10_000)):
        for bucket in (0, 1354, 9999):
            minted = [str(mint_record_id(bucket, creator=creator)) for _ in range(20)]
            assert {_bucket(payment_id=record_id) for record_id in minted} == {expected}
            as_plain_keys = [_bucket(hashed, payment_id=record_id) for record_id in minted]
            assert as_plain_keys == [bucket_of(record_id) for record_id in minted]
            assert set(as_plain_keys) != {expected}


def test_an_id_without_a_bucket_counts_as_absent_and_the_next_key_is_tried() -> None:
    legacy = str(uuid.uuid4())
    ids_first = Sticky(keys=(
        StickyKey(source=KeySource.PATH, name="payment_id", embedded=True),
        StickyKey(source=KeySource.HEADER, name="x-order-id"),
    ))  # fmt: skip
    found = request_bucket(ids_first, headers={"x-order-id": "o-9"}, cookies=None, query="",
                           params={"payment_id": legacy}, json_body=lambda: None)  # fmt: skip
    assert found == bucket_of("o-9")
    assert _bucket(payment_id=legacy) is None
    assert _bucket(payment_id="not-a-uuid") is None


def test_the_body_is_parsed_only_when_a_json_key_is_reached() -> None:
    calls: list[None] = []

    def body() -> Any:
        calls.append(None)
        return {"order_id": 5}

    path_first = Sticky(keys=(StickyKey(source=KeySource.PATH, name="sku"), StickyKey(source=KeySource.JSON,
                                                                                       name="order_id")))  # fmt: skip
    assert request_bucket(path_first, headers={}, cookies=None, query="", params={"sku": "MUG"},
                          json_body=body) == bucket_of("MUG")  # fmt: skip
    assert calls == []
    assert request_bucket(path_first, headers={}, cookies=None, query="", params={}, json_body=body) == bucket_of("5")
    assert len(calls) == 1
