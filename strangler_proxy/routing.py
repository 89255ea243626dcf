"""Django-style path patterns and the proxy's route table.

A pattern is what Django's ``path()`` takes, with a leading slash: ``/api/orders/<uuid:order_id>/``. The
converters are Django's (``str``, ``int``, ``slug``, ``uuid``, ``path``); ``<name>`` means ``<str:name>``.

Paths are matched exactly as sent (the raw path, without the query string): no percent-decoding and no
normalisation. A path with a dot segment (``.`` or ``..``, also written ``%2e``) never matches any route, so it
cannot be smuggled past a route onto an upstream that would normalise it differently; ``has_dot_segments`` lets
the caller reject it outright.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strangler_proxy.model import Group, Route

__all__ = ["CompiledPath", "RouteMatch", "RouteTable", "compile_path", "has_dot_segments"]

_CONVERTERS: dict[str, str] = {
    "str": r"[^/]+",
    "int": r"[0-9]+",
    "slug": r"[-a-zA-Z0-9_]+",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "path": r".+",
}
_SAMPLES = {"str": "x", "int": "1", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000", "path": "x/y"}
_SHAPE_PARAMETER = re.compile(r"<(\w+)>")  # literals cannot hold '<', so these are the parameters of a shape
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_DOT_SEGMENT = re.compile(r"(?:^|/)(?:\.|%2e){1,2}(?:/|$)", re.IGNORECASE)


@dataclass(frozen=True)
class CompiledPath:
    """A pattern compiled to an anchored regex.

    >>> compile_path("/api/orders/<int:order_id>/").match("/api/orders/42/")
    {'order_id': 42}
    """

    pattern: str
    regex: re.Pattern[str]
    converters: tuple[tuple[str, str], ...]  # (parameter name, converter name) in pattern order
    shape: str  # the pattern with parameter names erased: equal shapes match the same paths

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.converters)

    def example(self) -> str:
        """A path this pattern matches: each parameter filled with a sample of its converter."""
        return _SHAPE_PARAMETER.sub(lambda found: _SAMPLES[found[1]], self.shape)

    def match(self, path: str) -> dict[str, Any] | None:
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        values: dict[str, Any] = found.groupdict()
        for name, converter in self.converters:
            if converter == "int":
                values[name] = int(values[name])
        return values


def compile_path(pattern: str) -> CompiledPath:
    """Compile a Django-style pattern; ValueError names what is wrong with it."""
    if not pattern.startswith("/"):
        raise ValueError(f"pattern {pattern!r} must start with '/'")
    parts: list[str] = []
    shape: list[str] = []
    converters: list[tuple[str, str]] = []
    position = 0
    for found in _PARAMETER.finditer(pattern):
        parts.append(_literal(pattern, pattern[position : found.start()]))
        shape.append(pattern[position : found.start()])
        converter, name = found["converter"] or "str", found["name"]
        if not name.isidentifier():
            raise ValueError(f"pattern {pattern!r}: parameter name {name!r} is not a Python identifier")
        if converter not in _CONVERTERS:
            known = ", ".join(_CONVERTERS)
            raise ValueError(f"pattern {pattern!r}: unknown converter {converter!r} (known: {known})")
        if name in dict(converters):
            raise ValueError(f"pattern {pattern!r}: parameter {name!r} appears twice")
        converters.append((name, converter))
        parts.append(f"(?P<{name}>{_CONVERTERS[converter]})")
        shape.append(f"<{converter}>")
        position = found.end()
    parts.append(_literal(pattern, pattern[position:]))
    shape.append(pattern[position:])
    return CompiledPath(pattern, re.compile("".join(parts)), tuple(converters), "".join(shape))


def _literal(pattern: str, text: str) -> str:
    if "<" in text or ">" in text:
        raise ValueError(f"pattern {pattern!r}: unbalanced '<' or '>' in {text!r}")
    return re.escape(text)


def has_dot_segments(path: str) -> bool:
    """True when the path holds a ``.`` or ``..`` segment, literally or as ``%2e``."""
    return _DOT_SEGMENT.search(path) is not None


@dataclass(frozen=True)
class RouteMatch:
    group: Group
    route: Route
    params: dict[str, Any]


@dataclass(frozen=True)
class _Entry:
    order: int
    group: Group
    route: Route
    compiled: CompiledPath
    methods: frozenset[str]  # empty = any; GET brings HEAD along
    headers: tuple[tuple[str, str], ...]


@dataclass
class _Node:
    """Routes indexed by their leading literal path segments; ``entries`` holds, in config order, every route
    whose literal prefix is this node's path or a prefix of it."""

    entries: tuple[_Entry, ...] = ()
    children: dict[str, _Node] = field(default_factory=dict)


CACHE_SIZE = 10_000  # remembered (method, path) answers; the cache starts over when full


class RouteTable:
    """The groups' routes in config order; the first route that matches wins.

    >>> table = RouteTable(config.groups)
    >>> found = table.match("GET", "/api/inventory/stock/MUG/", {})
    >>> found.group.name, found.params
    ('inventory', {'sku': 'MUG'})

    A route with no methods takes any method; one that lists GET also takes HEAD (as Django's views do). Header
    names compare case-insensitively, values exactly. Unmatched requests (``None``) belong to the monolith.
    """

    def __init__(self, groups: Mapping[str, Group]) -> None:
        entries = [
            _entry(order, group, route)
            for order, (group, route) in enumerate((g, r) for g in groups.values() for r in g.routes)
        ]
        self._root = _Node()
        for entry in entries:
            self._insert(entry)
        self._freeze(self._root, ())
        # Without header conditions a match depends on (method, path) alone: remembered, bounded, since the same
        # paths come back again and again. (RouteMatch values are never mutated by callers.)
        self._cacheable = not any(entry.headers for entry in entries)
        self._cache: dict[tuple[str, str], RouteMatch | None] = {}

    def match(self, method: str, path: str, headers: Mapping[str, str]) -> RouteMatch | None:
        if not self._cacheable:
            return self._match(method, path, headers)
        key = (method, path)
        try:
            return self._cache[key]
        except KeyError:
            pass
        found = self._match(method, path, headers)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = found
        return found

    def _match(self, method: str, path: str, headers: Mapping[str, str]) -> RouteMatch | None:
        if has_dot_segments(path):
            return None
        lowered: dict[str, str] | None = None
        for entry in self._candidates(path):
            if entry.methods and method not in entry.methods:
                continue
            if entry.headers:
                if lowered is None:
                    lowered = {name.lower(): value for name, value in headers.items()}
                if any(lowered.get(name) != value for name, value in entry.headers):
                    continue
            params = entry.compiled.match(path)
            if params is not None:
                return RouteMatch(entry.group, entry.route, params)
        return None

    def _candidates(self, path: str) -> tuple[_Entry, ...]:
        node = self._root
        for segment in path[1:].split("/"):
            child = node.children.get(segment)
            if child is None:
                break
            node = child
        return node.entries

    def _insert(self, entry: _Entry) -> None:
        node = self._root
        for segment in _literal_prefix(entry.compiled.pattern):
            node = node.children.setdefault(segment, _Node())
        node.entries = (*node.entries, entry)

    def _freeze(self, node: _Node, inherited: Iterable[_Entry]) -> None:
        node.entries = tuple(sorted((*inherited, *node.entries), key=lambda entry: entry.order))
        for child in node.children.values():
            self._freeze(child, node.entries)


def _entry(order: int, group: Group, route: Route) -> _Entry:
    methods = frozenset(route.methods)
    if "GET" in methods:
        methods |= {"HEAD"}
    headers = tuple((name.lower(), value) for name, value in route.headers)
    return _Entry(order, group, route, compile_path(route.path), methods, headers)


def _literal_prefix(pattern: str) -> list[str]:
    """The leading path segments that are plain text and followed by a '/' or the end of the pattern."""
    segments = pattern[1:].split("/")
    prefix: list[str] = []
    for segment in segments:
        if "<" in segment:
            break
        prefix.append(segment)
    return prefix
