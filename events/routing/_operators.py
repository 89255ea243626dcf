"""Parsing one value list (``"field": [ ... ]``) of a pattern into matchers, with event-ruler's validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from . import _matchers as m
from ._anything_but import parse_anything_but
from ._errors import InvalidPattern
from ._ip import parse_address, parse_cidr
from ._numbers import is_number, number_text
from ._operands import number_key_or_none, number_operand, string_operand, wildcard_operand
from ._text import IgnoreCase

_LOWER_BOUNDS: Final = {">": True, ">=": False}  # operator -> is the bound open
_UPPER_BOUNDS: Final = {"<": True, "<=": False}


def parse_value_list(values: list[Any], path: str) -> list[m.Matcher]:
    """Matchers for ``"path": values``; raises InvalidPattern where event-ruler's ``addRule`` would throw."""
    if not values:
        raise InvalidPattern("empty arrays are not allowed", path)
    return [_parse_value(value, path) for value in values]


def _parse_value(value: Any, path: str) -> m.Matcher:
    if isinstance(value, Mapping):
        return _parse_operator(value, path)
    if isinstance(value, str):
        # event-ruler stores a string that is an IP address as an address, matching any spelling of it.
        address = parse_address(value)
        return m.ExactString(value) if address is None else m.ExactAddress(address)
    if value is None or isinstance(value, bool):
        return m.ExactLiteral("null" if value is None else str(value).lower())
    if is_number(value):
        key = number_key_or_none(value, path)
        return m.ExactNumberText(number_text(value)) if key is None else m.ExactNumber(key)
    raise InvalidPattern("match values must be strings, numbers, true, false, null or operator objects", path)


def _parse_operator(expression: Mapping[Any, Any], path: str) -> m.Matcher:
    if not expression:
        raise InvalidPattern("operator object has no operator", path)
    name = next(iter(expression))
    parser = _OPERATORS.get(name) if isinstance(name, str) else None
    if parser is None:
        raise InvalidPattern(f"unrecognized match type {name!r}", path)
    if len(expression) != 1:
        raise InvalidPattern(f"only one key allowed in the {name!r} operator object", path)
    return parser(expression[name], path)


def _prefix(operand: Any, path: str) -> m.Matcher:
    if isinstance(operand, Mapping):
        return m.PrefixIgnoreCase(IgnoreCase(_nested_ignore_case(operand, "prefix", path)))
    return m.Prefix(string_operand(operand, "prefix", path))


def _suffix(operand: Any, path: str) -> m.Matcher:
    if isinstance(operand, Mapping):
        return m.SuffixIgnoreCase(IgnoreCase(_nested_ignore_case(operand, "suffix", path)))
    return m.Suffix(string_operand(operand, "suffix", path))


def _nested_ignore_case(operand: Mapping[Any, Any], outer: str, path: str) -> str:
    if list(operand) != ["equals-ignore-case"]:
        raise InvalidPattern(f"{outer} object must hold exactly one key, equals-ignore-case", path)
    return string_operand(operand["equals-ignore-case"], "equals-ignore-case", path)


def _equals_ignore_case(operand: Any, path: str) -> m.Matcher:
    return m.EqualsIgnoreCase(IgnoreCase(string_operand(operand, "equals-ignore-case", path)))


def _wildcard(operand: Any, path: str) -> m.Matcher:
    return m.WildcardMatch(wildcard_operand(operand, path))


def _exists(operand: Any, path: str) -> m.Matcher:
    if not isinstance(operand, bool):
        raise InvalidPattern("exists match pattern must be either true or false", path)
    return m.Exists() if operand else m.ABSENT


def _cidr(operand: Any, path: str) -> m.Matcher:
    text = string_operand(operand, "cidr", path)
    try:
        return m.Cidr(parse_cidr(text))
    except ValueError as error:
        raise InvalidPattern(f"cidr {text!r}: {error}", path) from None


def _numeric(operand: Any, path: str) -> m.Matcher:
    if not isinstance(operand, list) or not operand or not isinstance(operand[0], str):
        raise InvalidPattern("value of numeric must be an array starting with an operator", path)
    operator = operand[0]
    if len(operand) < 2:
        raise InvalidPattern(f"numeric operator {operator!r} needs a number", path)
    key = number_operand(operand[1], path)
    if operator == "=" or operator in _UPPER_BOUNDS:
        if len(operand) != 2:
            raise InvalidPattern("too many elements in numeric expression", path)
        if operator == "=":
            return m.NumericRange(key, False, key, False)
        return m.NumericRange(None, False, key, _UPPER_BOUNDS[operator])
    if operator not in _LOWER_BOUNDS:
        raise InvalidPattern(f"unrecognized numeric range operator {operator!r}", path)
    if len(operand) == 2:
        return m.NumericRange(key, _LOWER_BOUNDS[operator], None, False)
    upper = operand[2] if len(operand) == 4 else None
    if not isinstance(upper, str) or upper not in _UPPER_BOUNDS:
        raise InvalidPattern("a numeric range is [lower operator, number, upper operator, number]", path)
    top = number_operand(operand[3], path)
    if top <= key:
        raise InvalidPattern("bottom of a numeric range must be less than its top", path)
    return m.NumericRange(key, _LOWER_BOUNDS[operator], top, _UPPER_BOUNDS[upper])


_OPERATORS: Final[dict[str, Callable[[Any, str], m.Matcher]]] = {
    "anything-but": parse_anything_but,
    "cidr": _cidr,
    "equals-ignore-case": _equals_ignore_case,
    "exists": _exists,
    "numeric": _numeric,
    "prefix": _prefix,
    "suffix": _suffix,
    "wildcard": _wildcard,
}
