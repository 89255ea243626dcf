"""Sticky canary: a business key picks one of 10,000 buckets; a percent owns the lowest buckets.

The bucket is the first 8 bytes of BLAKE2b (8-byte digest) of the key's UTF-8 bytes, read big-endian, modulo
10,000. BLAKE2b is in every Python's hashlib and its output never depends on the process (unlike ``hash()``), the
platform or the Python version; the modulo bias over 2**64 is below 1e-15. Changing this function moves customers
between sides mid-canary, so tests pin a few buckets as a regression guard.

>>> side = choose_side(Mode.CANARY, 5.0, "customer-42", Side.MONOLITH)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from strangler_proxy.model import KeySource, Mode, Side, Sticky

__all__ = ["BUCKETS", "bucket_of", "choose_side", "in_canary", "sticky_key"]

BUCKETS = 10_000


def bucket_of(key: str) -> int:
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def in_canary(bucket: int, percent: float) -> bool:
    """Buckets below ``percent`` hundredths are in: 5% is buckets 0..499, so raising the percent only adds."""
    # Floor with a tolerance so that 0.07 (7.000000000000001 hundredths) owns exactly 7 buckets.
    threshold = math.floor(percent * (BUCKETS / 100) + 1e-6)
    return bucket < threshold


def choose_side(mode: Mode, percent: float, key: str | None, default: Side) -> Side:
    """Where a request goes. Shadow answers from the monolith; canary at 0% or 100% ignores the key (and its
    absence); between them a request without a key goes to ``default``."""
    if mode is Mode.SERVICE:
        return Side.SERVICE
    if mode is not Mode.CANARY or percent <= 0:
        return Side.MONOLITH
    if percent >= 100:
        return Side.SERVICE
    if key is None:
        return default
    return Side.SERVICE if in_canary(bucket_of(key), percent) else Side.MONOLITH


def sticky_key(
    sticky: Sticky,
    *,
    headers: Mapping[str, str],
    cookies: str | None,
    query: str,
    params: Mapping[str, Any],
    json_body: Callable[[], Any],
) -> str | None:
    """The business key named by ``sticky``, or None when the request lacks it (or it is empty).

    ``cookies`` is the raw Cookie header; ``json_body`` is called only for a JSON key and returns the parsed
    body, or None when there is none or it is not valid JSON. Numbers become canonical text: 42, 42.0 and "42"
    share a bucket.
    """
    source, name = sticky.source, sticky.name
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
