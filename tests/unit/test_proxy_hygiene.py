"""Request ids the proxy makes: unique, uuid-sized, and a sane client id is kept."""

from __future__ import annotations

import string

from strangler_proxy.hygiene import request_id


def test_made_ids_are_unique_32_hex_digits() -> None:
    made = [request_id([]) for _ in range(10_000)]
    assert len(set(made)) == len(made)
    assert all(len(rid) == 32 and set(rid) <= set(string.hexdigits) for rid in made)


def test_a_sane_client_id_is_kept_and_an_odd_one_replaced() -> None:
    assert request_id([("x-request-id", "abc-123")]) == "abc-123"
    assert request_id([("x-request-id", "two words")]) != "two words"
