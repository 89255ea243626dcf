"""The shape of a pattern: nested objects become dotted paths, ``$or`` forks the rule into alternatives.

Following event-ruler, ``"$or"`` is the or-primitive only when it holds an array of two or more objects none of
whose keys is an operator name; otherwise it is an ordinary field called ``$or``. Inside an ``$or`` branch no field
may be named after an operator. A path given twice keeps the later value list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._errors import InvalidPattern
from ._matchers import Matcher
from ._operators import parse_value_list

Branch = dict[str, list[Matcher]]

OR_KEYWORD: Final = "$or"
# event-ruler's RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP: today's operators plus names kept for future ones.
RESERVED_IN_OR: Final = frozenset(
    {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)


def parse_branches(pattern: Any) -> list[Branch]:
    """The alternatives (sub-rules) of ``pattern``: each maps a dotted path to its value matchers."""
    if not isinstance(pattern, Mapping):
        raise InvalidPattern("pattern must be a JSON object")
    return _parse_object(pattern, None, [{}], inside_or=False)


def _parse_object(obj: Mapping[Any, Any], prefix: str | None, branches: list[Branch], inside_or: bool) -> list[Branch]:
    if not obj:
        raise InvalidPattern("empty objects are not allowed", prefix)
    for key, value in obj.items():
        if not isinstance(key, str):
            raise InvalidPattern(f"field names must be strings, not {key!r}", prefix)
        if key == OR_KEYWORD and _is_or(value):
            branches = _parse_or(value, prefix, branches)
            continue
        path = key if prefix is None else f"{prefix}.{key}"
        if inside_or and key in RESERVED_IN_OR:
            raise InvalidPattern(f"{key!r} is reserved and cannot be a field name inside $or", path)
        if isinstance(value, Mapping):
            branches = _parse_object(value, path, branches, inside_or)
        elif isinstance(value, list):
            matchers = parse_value_list(value, path)
            for branch in branches:
                branch[path] = matchers
        else:
            raise InvalidPattern("value must be an object or a non-empty array", path)
    return branches


def _is_or(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(item, Mapping) and RESERVED_IN_OR.isdisjoint(item) for item in value)
    )


def _parse_or(items: list[Mapping[Any, Any]], prefix: str | None, branches: list[Branch]) -> list[Branch]:
    forked: list[Branch] = []
    for item in items:
        forked.extend(_parse_object(item, prefix, [dict(branch) for branch in branches], inside_or=True))
    return forked
