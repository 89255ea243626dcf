"""Typed readers for the proxy's YAML configuration: each takes a ``Node`` (a value and its key path) and returns
a checked value or raises ``Invalid`` naming that path. ``strangler_proxy.config`` composes them."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = [
    "Invalid",
    "Node",
    "Parser",
    "boolean",
    "capability",
    "enum",
    "env_name",
    "header_name",
    "host_port",
    "http_url",
    "integer",
    "json_path",
    "name_key",
    "nullable",
    "number",
    "read",
    "state_url",
    "string",
    "strings",
]

Parser = Callable[["Node"], Any]
E = TypeVar("E", bound=StrEnum)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_HOST_PORT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})")
_JSON_PATH = re.compile(r"\$(?:\.[^.\[\]]+|\[(?:[0-9]+|\*)\])*")
_CAPABILITY = re.compile(r"[A-Za-z0-9_-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STATE_SCHEMES = ("sqlite", "postgres", "postgresql", "redis", "rediss")


class Invalid(Exception):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


@dataclass(frozen=True)
class Node:
    path: str  # "groups.inventory.routes[0].path"; "" for the document
    value: Any

    def child(self, key: str, value: Any) -> Node:
        return Node(f"{self.path}.{key}" if self.path else key, value)

    def mapping(self) -> dict[str, Node]:
        if not isinstance(self.value, dict):
            raise Invalid(self.path or "(document)", "must be a mapping")
        for key in self.value:
            if not isinstance(key, str):
                raise Invalid(self.path or "(document)", f"key {key!r} must be a string")
        return {key: self.child(key, value) for key, value in self.value.items()}

    def items(self) -> list[Node]:
        if not isinstance(self.value, list):
            raise Invalid(self.path, "must be a list")
        return [Node(f"{self.path}[{index}]", value) for index, value in enumerate(self.value)]


def read(node: Node, spec: Mapping[str, Parser], required: Iterable[str] = ()) -> dict[str, Any]:
    """Parse a mapping's keys with ``spec``; unknown keys and missing required ones are errors."""
    children = node.mapping()
    for key, child in children.items():
        if key not in spec:
            close = difflib.get_close_matches(key, list(spec), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise Invalid(child.path, f"unknown key ({hint}allowed: {', '.join(spec)})")
    for key in required:
        if key not in children:
            raise Invalid(node.child(key, None).path, "is required")
    return {key: spec[key](child) for key, child in children.items()}


def name_key(node: Node) -> dict[str, Node]:
    """A mapping keyed by names (upstreams, groups, tokens): letters, digits, '_', '.', '-'."""
    children = node.mapping()
    for key, child in children.items():
        if not _NAME.fullmatch(key):
            raise Invalid(child.path, "name must start with a letter or digit and hold only letters, digits, _ . -")
    return children


def string(node: Node, *, allow_empty: bool = False) -> str:
    if not isinstance(node.value, str):
        raise Invalid(node.path, "must be a string (quote it)")
    if not allow_empty and not node.value.strip():
        raise Invalid(node.path, "must not be empty")
    return node.value


def strings(node: Node, item: Callable[[Node], str]) -> tuple[str, ...]:
    return tuple(item(child) for child in node.items())


def boolean(node: Node) -> bool:
    if not isinstance(node.value, bool):
        raise Invalid(node.path, "must be true or false")
    return node.value


def integer(*, minimum: int) -> Parser:
    def parse(node: Node) -> int:
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise Invalid(node.path, "must be a whole number")
        if node.value < minimum:
            raise Invalid(node.path, f"must be at least {minimum}")
        return node.value

    return parse


def number(*, low: float | None = None, high: float | None = None, positive: bool = False) -> Parser:
    """A finite number, > 0 when ``positive``, within ``low``..``high`` when both are given."""

    def parse(node: Node) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid(node.path, "must be a number")
        if positive and value <= 0:
            raise Invalid(node.path, "must be greater than 0")
        if low is not None and high is not None and not low <= value <= high:
            raise Invalid(node.path, f"must be from {low:g} to {high:g}")
        return float(value)

    return parse


def nullable(parse: Parser) -> Parser:
    return lambda node: None if node.value is None else parse(node)


def enum(kind: type[E]) -> Callable[[Node], E]:
    def parse(node: Node) -> E:
        allowed = [member.value for member in kind]
        if node.value not in allowed:
            raise Invalid(node.path, f"must be one of {', '.join(allowed)}")
        return kind(node.value)

    return parse


def header_name(node: Node) -> str:
    name = string(node)
    if not _HEADER_NAME.fullmatch(name):
        raise Invalid(node.path, f"{name!r} is not a valid header name")
    return name.lower()


def host_port(node: Node) -> str:
    value = string(node) if isinstance(node.value, str) else None
    found = _HOST_PORT.fullmatch(value or "")
    if value is None or found is None or not 0 < int(found["port"]) < 65536:
        raise Invalid(node.path, "must be host:port with a port from 1 to 65535, e.g. 127.0.0.1:8080")
    return value


def http_url(node: Node) -> str:
    """``scheme://host[:port][/prefix]``; a trailing slash is dropped so the prefix joins request paths cleanly."""
    value = node.value if isinstance(node.value, str) else ""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise Invalid(node.path, "must be an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise Invalid(node.path, "must be an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise Invalid(node.path, "must be scheme://host:port[/prefix], without credentials, query or fragment")
    return value.rstrip("/")


def state_url(node: Node) -> str:
    value = string(node)
    scheme = value.partition("://")[0]
    if scheme not in _STATE_SCHEMES or "://" not in value:
        raise Invalid(node.path, "must be sqlite:///path, postgres://…, postgresql://…, redis:// or rediss://")
    if scheme == "sqlite" and (not value.startswith("sqlite:///") or value == "sqlite:///"):
        raise Invalid(node.path, "a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
    return value


def json_path(node: Node) -> str:
    value = string(node)
    if not _JSON_PATH.fullmatch(value):
        raise Invalid(node.path, "must be a JSON path like $.a.b, $.items[0] or $.items[*].id")
    return value


def capability(node: Node) -> str:
    """A capability's name as it appears in an internal URL path: letters, digits, '_' and '-'."""
    value = string(node)
    if not _CAPABILITY.fullmatch(value):
        raise Invalid(node.path, "must hold only letters, digits, _ and - (it is part of a URL path)")
    return value


def env_name(node: Node) -> str:
    value = string(node)
    if not _ENV_NAME.fullmatch(value):
        raise Invalid(
            node.path, "must be an environment variable name: letters, digits and _, not starting with a digit"
        )
    return value
