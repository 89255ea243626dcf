"""Comparing the monolith's and the service's answers to one shadowed request, and redacting what gets stored.

Rules, in the order they are reported: the status must be equal; each header named in ``compare_headers`` and not in
``ignore_headers`` must have the same value on both sides (a header present on one side only differs); bodies
that are both JSON are compared structurally after the ``ignore_paths`` are removed, any other bodies byte by byte.

Ignored JSON paths: ``$`` (the whole body), then any of ``.name``, ``["name with dots"]`` (JSON string escapes),
``['name']``, ``[n]`` (array index), ``[*]`` or ``.*`` (every member or element), e.g. ``$.items[*].etag``. A path
removes the whole subtree under it, on both sides.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from strangler_proxy.model import ShadowPolicy

__all__ = [
    "MAX_DIFFERENCES",
    "REDACTED",
    "SECRET_FIELDS",
    "SECRET_HEADERS",
    "Comparison",
    "Difference",
    "Exchange",
    "InvalidPath",
    "compare",
    "parse_path",
    "readable_diff",
    "redact_body_fields",
    "redact_headers",
]

MAX_DIFFERENCES: Final = 50
REDACTED: Final = "[redacted]"
SECRET_HEADERS: Final = ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-csrftoken")
SECRET_FIELDS: Final = ("password", "token", "secret", "card_number", "cvc")


@dataclass(frozen=True)
class Exchange:
    """One side's response, as buffered for comparison; ``truncated`` when the body hit the buffering limit."""

    status: int
    headers: tuple[tuple[str, str], ...]  # lower-case names, in order
    body: bytes
    truncated: bool = False


@dataclass(frozen=True)
class Difference:
    """What differs and the two values.

    ``where`` is ``status``; ``header <name>`` (a value is None when the header is absent); ``body`` for bodies
    compared byte-wise (the values are the raw bodies); or a JSON path such as ``$.items[2].price``, with
    `` (missing in service)`` or `` (missing in monolith)`` appended when one side lacks it (that value is None).
    Reported JSON values leave out the ignored members under them; an ignored array element shows as
    ``"[ignored]"`` so that the others keep their index.
    """

    where: str
    monolith: Any
    service: Any


@dataclass(frozen=True)
class Comparison:
    """The verdict on one shadowed exchange: ``outcome`` is ``matched``, ``mismatched`` or ``skipped``.

    ``skipped`` holds the reason when the bodies could not be compared (too large) and nothing else differed; such
    a comparison has ``matched=False`` but is neither a match nor a mismatch: leave it out of the mismatch rate.
    A difference in status or headers is a mismatch even when the bodies were too large to compare.
    ``differences`` lists at most ``MAX_DIFFERENCES``; ``omitted`` counts the rest.
    """

    matched: bool
    differences: tuple[Difference, ...] = ()
    summary: str = "responses match"
    skipped: str | None = None
    omitted: int = 0

    @property
    def outcome(self) -> Literal["matched", "mismatched", "skipped"]:
        if self.skipped is not None:
            return "skipped"
        return "matched" if self.matched else "mismatched"


class InvalidPath(ValueError):
    """An ignore path that does not follow the syntax in this module's docstring."""


def compare(monolith: Exchange, service: Exchange, policy: ShadowPolicy) -> Comparison:
    """The verdict on two responses to one request under a group's shadow policy (rules in the module docstring)."""
    found = _Differences(MAX_DIFFERENCES)
    if monolith.status != service.status:
        found.add("status", monolith.status, service.status)
    _compare_headers(monolith.headers, service.headers, policy, found)
    ignored = _parse_all(policy.ignore_paths)
    too_large = [
        side
        for side, exchange in (("monolith", monolith), ("service", service))
        if exchange.truncated or len(exchange.body) > policy.max_body_bytes
    ]
    if () in ignored:
        pass  # "$": the body is not part of the comparison at all
    elif too_large:
        reason = f"{' and '.join(too_large)} {'bodies' if len(too_large) > 1 else 'body'} larger than the comparison "
        reason += f"limit ({policy.max_body_bytes:,} bytes): not compared"
        if not found.total:
            return Comparison(matched=False, summary=reason, skipped=reason)
        return found.verdict(note=reason)
    elif monolith.body != service.body:
        _compare_bodies(monolith, service, ignored, found)
    return found.verdict()


def readable_diff(comparison: Comparison) -> str:
    """The summary, then one line per difference: ``<where>: - monolith: <json> / + service: <json>``."""
    lines = [comparison.summary]
    for difference in comparison.differences:
        monolith, service = _render_pair(difference)
        lines.append(f"{difference.where}: - monolith: {monolith} / + service: {service}")
    if comparison.omitted:
        lines.append(f"… and {comparison.omitted:,} more difference{'s' if comparison.omitted > 1 else ''}")
    return "\n".join(lines)


def redact_headers(headers: tuple[tuple[str, str], ...], extra: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """The headers in order, with the values of credentials (and of the ``extra`` names) replaced by REDACTED."""
    secret = {*SECRET_HEADERS, *(name.lower() for name in extra)}
    return tuple((name, REDACTED if name.lower() in secret else value) for name, value in headers)


def redact_body_fields(value: Any, names: tuple[str, ...] = SECRET_FIELDS) -> Any:
    """A copy of a decoded JSON value with the values of secret-looking members replaced by REDACTED, at any depth.

    A member is secret when its name, lower-cased and without ``_`` or ``-``, contains one of ``names`` so
    normalised: ``password`` covers ``new_password`` and ``passwordConfirmation``, ``card_number`` covers
    ``cardNumber``. This errs on the side of redacting (``token`` also covers ``tokens_used``).
    """
    needles = tuple(_squash(name) for name in names)

    def secret(key: str) -> bool:
        squashed = _squash(key)
        return any(needle in squashed for needle in needles)

    root: list[Any] = []
    stack: list[tuple[Any, list[Any] | dict[Any, Any]]] = [([value], root)]  # (source, its copy being filled)
    while stack:
        source, copy = stack.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in pairs:
            if isinstance(key, str) and secret(key):
                item_copy: Any = REDACTED
            elif isinstance(item, dict | list):
                item_copy = {} if isinstance(item, dict) else []
                stack.append((item, item_copy))
            else:
                item_copy = item
            if isinstance(copy, dict):
                copy[key] = item_copy
            else:
                copy.append(item_copy)
    return root[0]


def _squash(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


# --- comparison ------------------------------------------------------------------------------------------------

_MISSING: Final = object()  # a member or element absent on one side


@dataclass
class _Differences:
    limit: int
    listed: list[Difference] = field(default_factory=list)
    total: int = 0

    def add(self, where: str, monolith: Any, service: Any) -> None:
        self.total += 1
        if len(self.listed) < self.limit:
            self.listed.append(Difference(where, monolith, service))

    def verdict(self, note: str = "") -> Comparison:
        if not self.total:
            return Comparison(matched=True)
        wheres = ", ".join(difference.where for difference in self.listed[:3])
        summary = f"{self.total:,} difference{'s' if self.total > 1 else ''}: {wheres}"
        summary += ", …" if self.total > 3 else ""
        summary += f"; {note}" if note else ""
        return Comparison(False, tuple(self.listed), summary, omitted=self.total - len(self.listed))


def _compare_headers(
    monolith: tuple[tuple[str, str], ...],
    service: tuple[tuple[str, str], ...],
    policy: ShadowPolicy,
    found: _Differences,
) -> None:
    ignored = {name.lower() for name in policy.ignore_headers}
    for name in dict.fromkeys(name.lower() for name in policy.compare_headers):
        if name in ignored:
            continue
        left, right = _header(monolith, name), _header(service, name)
        if left != right:
            found.add(f"header {name}", left, right)


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    """The value, several fields of one name joined by ``", "`` as HTTP allows; None when absent."""
    values = [value for key, value in headers if key.lower() == name]
    return ", ".join(values) if values else None


def _compare_bodies(monolith: Exchange, service: Exchange, ignored: tuple[_Segments, ...], found: _Differences) -> None:
    left, right = _json_body(monolith), _json_body(service)
    if left is _MISSING or right is _MISSING:
        found.add("body", monolith.body, service.body)
        return
    for segments in ignored:
        _remove(left, segments)
        _remove(right, segments)
    # Python's == tells decoded JSON values apart as this module does, except that it takes true for 1 and false for
    # 0 (and NaN for unequal to itself, which only costs a closer look): so when neither body holds a boolean, equal
    # subtrees are settled at C speed instead of member by member.
    trust_equality = not (_may_hold_booleans(monolith.body) or _may_hold_booleans(service.body))
    _compare_json(left, right, found, trust_equality)


def _may_hold_booleans(body: bytes) -> bool:
    ascii_compatible = b"\x00" not in body[:4]  # JSON in UTF-16 or UTF-32 has a NUL among its first four bytes
    return not ascii_compatible or b"true" in body or b"false" in body


def _json_body(exchange: Exchange) -> Any:
    """The decoded body when it is declared JSON, or undeclared and parses as JSON; _MISSING otherwise."""
    content_type = _header(exchange.headers, "content-type")
    if content_type is not None:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            return _MISSING
    try:
        return json.loads(exchange.body)
    except (ValueError, RecursionError):  # ValueError covers bad JSON and undecodable bytes
        return _MISSING


# A JSON path as a chain (parent, key), None at the root: rendered only for the few paths that differ.
_Path = tuple[Any, str | int] | None
_Frame = tuple[_Path, Any, Any]  # path, monolith value, service value


def _compare_json(monolith: Any, service: Any, found: _Differences, trust_equality: bool) -> None:
    """Depth-first in document order, with an explicit stack: any nesting json.loads accepts is fine."""
    if trust_equality and monolith == service:
        return
    stack: list[_Frame] = [(None, monolith, service)]
    while stack:
        path, left, right = stack.pop()
        if left is _IGNORED or right is _IGNORED:
            continue
        if right is _MISSING:
            found.add(f"{_render(path)} (missing in service)", left, None)
        elif left is _MISSING:
            found.add(f"{_render(path)} (missing in monolith)", None, right)
        elif type(left) is type(right) and (type(left) is dict or type(left) is list):
            stack.extend(reversed(_children(path, left, right, trust_equality)))
        elif not _same_scalar(left, right):
            found.add(_render(path), left, right)


def _children(path: _Path, left: Any, right: Any, trust_equality: bool) -> list[_Frame]:
    """The children still to look into: equal scalars of one type (and equal containers, when Python's equality can
    be trusted) are settled on the spot, for speed."""
    frames: list[_Frame] = []
    if type(left) is dict:
        shared = 0
        for key, item in left.items():
            other = right.get(key, _MISSING)
            shared += other is not _MISSING
            kind = type(item)
            if kind is not type(other) or ((kind is dict or kind is list) and not trust_equality) or item != other:
                frames.append(((path, key), item, other))
        if shared < len(right):
            frames.extend(((path, key), _MISSING, item) for key, item in right.items() if key not in left)
        return frames
    for index, (item, other) in enumerate(zip(left, right, strict=False)):
        kind = type(item)
        if kind is not type(other) or ((kind is dict or kind is list) and not trust_equality) or item != other:
            frames.append(((path, index), item, other))
    shorter = min(len(left), len(right))
    frames.extend(((path, index), item, _MISSING) for index, item in enumerate(left[shorter:], shorter))
    frames.extend(((path, index), _MISSING, item) for index, item in enumerate(right[shorter:], shorter))
    return frames


def _render(path: _Path) -> str:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    return "$" + "".join(_key_path(key) if isinstance(key, str) else f"[{key}]" for key in reversed(keys))


_NUMBERS: Final = (int, float)


def _same_scalar(left: Any, right: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1; NaN equals NaN (json.loads accepts it)."""
    if type(left) in _NUMBERS and type(right) in _NUMBERS:  # type(), not isinstance(): bool is not a number here
        return bool(left == right or (left != left and right != right))
    return type(left) is type(right) and bool(left == right)


def _key_path(key: str) -> str:
    return f".{key}" if key.isidentifier() else f"[{json.dumps(key, ensure_ascii=False)}]"


# --- ignore paths ----------------------------------------------------------------------------------------------


_Segments = tuple[str | int | None, ...]

# Stands in for an ignored array element, so that the elements after it keep their index. A str, so that a value
# reported with one inside stays JSON; recognised by identity: json.loads never returns this very object.
_IGNORED: Final = "".join(["[ign", "ored]"])


@functools.lru_cache(maxsize=256)
def _parse_all(paths: tuple[str, ...]) -> tuple[_Segments, ...]:
    return tuple(parse_path(path) for path in paths)


def _remove(document: Any, segments: _Segments) -> None:
    """Removes what one ignore path names from a decoded document, in place: members go, elements are replaced."""
    if not segments:
        return
    found = [document]
    for segment in segments[:-1]:
        found = [child for value in found for child in _select(value, segment)]
    last = segments[-1]
    for value in found:
        if type(value) is dict:
            if last is None:
                value.clear()
            elif isinstance(last, str):
                value.pop(last, None)
        elif type(value) is list:
            if last is None:
                value[:] = [_IGNORED] * len(value)
            elif isinstance(last, int) and last < len(value):
                value[last] = _IGNORED


def _select(value: Any, segment: str | int | None) -> list[Any]:
    if type(value) is dict:
        if segment is None:
            return list(value.values())
        return [value[segment]] if isinstance(segment, str) and segment in value else []
    if type(value) is list:
        if segment is None:
            return value
        return [value[segment]] if isinstance(segment, int) and segment < len(value) else []
    return []


_SEGMENT = re.compile(
    r"""\.(?P<star>\*)(?=[.\[]|\Z)
      | \.(?P<name>[^.\[\]]+)
      | \[(?P<index>[0-9]+)\]
      | \[(?P<any>\*)\]
      | \[(?P<quoted>"(?:[^"\\]|\\.)*")\]
      | \['(?P<single>[^']*)'\]""",
    re.VERBOSE,
)


def parse_path(path: str) -> _Segments:
    """The segments of an ignore path: a str for a member name, an int for an index, None for a wildcard."""
    if not path.startswith("$"):
        raise InvalidPath(f"ignore path {path!r} must start with '$'")
    segments: list[str | int | None] = []
    position = 1
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None:
            raise InvalidPath(f"ignore path {path!r}: cannot read {path[position:]!r} at offset {position}")
        if match["star"] is not None or match["any"] is not None:
            segments.append(None)
        elif match["index"] is not None:
            segments.append(int(match["index"]))
        elif match["quoted"] is not None:
            segments.append(json.loads(match["quoted"]))
        else:
            segments.append(match["name"] if match["name"] is not None else match["single"])
        position = match.end()
    return tuple(segments)


# --- rendering -------------------------------------------------------------------------------------------------

_SHOWN: Final = 200  # characters of each value shown by readable_diff
_CONTEXT: Final = 40  # characters shown before the first differing one when a value is cut


def _render_pair(difference: Difference) -> tuple[str, str]:
    """Both values as JSON, cut to _SHOWN characters around where they start to differ."""
    where = difference.where
    left = "(missing)" if where.endswith(" (missing in monolith)") else _encode(difference.monolith, where)
    right = "(missing)" if where.endswith(" (missing in service)") else _encode(difference.service, where)
    if len(left) <= _SHOWN and len(right) <= _SHOWN:
        return left, right
    start = max(0, _common_prefix(left, right) - _CONTEXT)
    return _cut(left, start), _cut(right, start)


def _common_prefix(left: str, right: str) -> int:
    """Its length, by bisection on slices: C-speed comparisons even for megabyte bodies."""
    low, high = 0, min(len(left), len(right))
    while low < high:
        middle = (low + high + 1) // 2
        if left[:middle] == right[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _encode(value: Any, where: str) -> str:
    if value is None and where.startswith("header "):
        return "(absent)"
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="backslashreplace")
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


def _cut(text: str, start: int) -> str:
    shown = text[start : start + _SHOWN]
    return ("…" if start else "") + shown + ("…" if start + _SHOWN < len(text) else "")
