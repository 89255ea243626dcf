"""Header hygiene between client and upstream: hop-by-hop removal, X-Forwarded-*, request ids, the error shape.

Headers are lists of ``(lower-case name, value)`` pairs of ``str`` (latin-1 decoded, as HTTP/1.1 carries them),
in order, duplicates kept.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterable

Headers = list[tuple[str, str]]

# RFC 9110 §7.6.1 connection-specific fields, plus the ones proxies conventionally drop. "te" and "trailer" too.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade",
})  # fmt: skip
# Methods a proxy may send again (fallback, a retry on a stale connection): RFC 9110 §9.2.1 safe methods.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# A new request id: 64 random bits drawn once per process, then a counter; 32 hex digits like a uuid4's. Unique
# without a getrandom() system call per request; nothing relies on an id being unguessable.
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(int.from_bytes(os.urandom(4), "big"))


def strip_hop_by_hop(headers: Iterable[tuple[str, str]]) -> Headers:
    """Without hop-by-hop fields, including every field the ``Connection`` header names."""
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name == "connection"
        for token in value.split(",")
        if token.strip()
    }
    return [(name, value) for name, value in pairs if name not in HOP_BY_HOP and name not in named]


def request_id(headers: Iterable[tuple[str, str]]) -> str:
    """The client's ``X-Request-ID`` when it is a sane token, otherwise a new one."""
    for name, value in headers:
        if name == "x-request-id" and _REQUEST_ID.match(value):
            return value
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def forwarded(headers: Headers, *, client: str | None, scheme: str, host: str | None) -> Headers:
    """Append this hop to ``X-Forwarded-For``, set ``-Proto`` and ``-Host`` unless an earlier proxy did."""
    out: Headers = []
    prior_for = prior_proto = prior_host = None
    for name, value in headers:
        if name == "x-forwarded-for":
            prior_for = f"{prior_for}, {value}" if prior_for else value
        elif name == "x-forwarded-proto":
            prior_proto = prior_proto or value
        elif name == "x-forwarded-host":
            prior_host = prior_host or value
        else:
            out.append((name, value))
    if client:
        out.append(("x-forwarded-for", f"{prior_for}, {client}" if prior_for else client))
    elif prior_for:
        out.append(("x-forwarded-for", prior_for))
    out.append(("x-forwarded-proto", prior_proto or scheme))
    if prior_host or host:
        out.append(("x-forwarded-host", prior_host or host or ""))
    return out


def error_body(code: str, message: str, details: object = None) -> bytes:
    """The project's JSON error shape (the monolith's ``monolith.api.errors.error_body``)."""
    body = {"error": {"code": code, "message": message, "details": details if details is not None else {}}}
    return json.dumps(body, separators=(",", ":")).encode()


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None
