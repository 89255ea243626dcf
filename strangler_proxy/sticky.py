"""A request's sticky bucket: the first of its group's keys present in the request picks it.

A plain key is hashed (``buckets.bucket_of``); an ``embedded`` key is a record id minted by
``record_ids.mint_record_id`` and says which side created it (``record_ids.routing_bucket``), so a call naming only
the record (``/api/payments/<id>/capture/``) reaches the side that created it. An embedded value that carries
nothing (a legacy UUID v4, any other text) counts as absent: the next key is tried, and without one the
group's default side applies.

>>> sticky = Sticky(keys=(StickyKey(source=KeySource.JSON, name="order_id"),
...                       StickyKey(source=KeySource.PATH, name="payment_id", embedded=True)))
>>> request_bucket(sticky, headers={}, cookies=None, query="", params={"payment_id": str(minted)},
...                json_body=lambda: None) == routing_bucket(minted)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from strangler_proxy.buckets import bucket_of
from strangler_proxy.model import KeySource, Sticky, StickyKey
from strangler_proxy.record_ids import routing_bucket

__all__ = ["key_value", "request_bucket"]


def request_bucket(
    sticky: Sticky,
    *,
    headers: Mapping[str, str],
    cookies: str | None,
    query: str,
    params: Mapping[str, Any],
    json_body: Callable[[], Any],
) -> int | None:
    """The bucket of the first key present (see ``key_value`` for the arguments), or None when none is."""
    for key in sticky.keys:
        value = key_value(key, headers=headers, cookies=cookies, query=query, params=params, json_body=json_body)
        if value is None:
            continue
        if not key.embedded:
            return bucket_of(value)
        bucket = routing_bucket(value)
        if bucket is not None:
            return bucket
    return None


def key_value(
    key: StickyKey,
    *,
    headers: Mapping[str, str],
    cookies: str | None,
    query: str,
    params: Mapping[str, Any],
    json_body: Callable[[], Any],
) -> str | None:
    """The value ``key`` names in the request, or None when the request lacks it (or it is empty).

    ``cookies`` is the raw Cookie header; ``params`` the matched route's path parameters (a path key is absent
    on a route without that parameter); ``json_body`` is called only for a JSON key and returns the parsed body,
    or None when there is none or it is not valid JSON. Numbers become canonical text: 42, 42.0 and "42" share a
    bucket.
    """
    source, name = key.source, key.name
    value: Any
    if source is KeySource.HEADER:
        value = _header(headers, name)
    elif source is KeySource.COOKIE:
        value = _cookie(cookies, name) if cookies else None
    elif source is KeySource.QUERY:
        values = parse_qs(query, keep_blank_values=True).get(name)
        value = values[0] if values else None
    elif source is KeySource.PATH:
        value = params.get(name)
    else:
        value = _dotted(json_body(), name)
    return _canonical(value)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    value = headers.get(lowered)
    if value is not None:
        return value
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


def _cookie(raw: str, name: str) -> str | None:
    # Hand-parsed: http.cookies.SimpleCookie drops every cookie after one it cannot parse.
    for part in raw.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
    return None


def _dotted(document: Any, path: str) -> Any:
    current = document
    for step in path.split("."):
        if isinstance(current, dict):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def _canonical(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None
