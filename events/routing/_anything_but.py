"""Parsing ``{"anything-but": ...}`` in all its forms.

Accepted: a string, a number, a non-empty list of strings or of numbers (not mixed), or an object with one of
``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard`` holding a string or a non-empty list of strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _matchers as m
from ._errors import InvalidPattern
from ._numbers import is_number
from ._operands import number_operand, string_operand, wildcard_operand
from ._text import IgnoreCase

_NESTED = ("prefix", "suffix", "equals-ignore-case", "wildcard")


def parse_anything_but(operand: Any, path: str) -> m.Matcher:
    if isinstance(operand, Mapping):
        return _nested(operand, path)
    if isinstance(operand, list):
        return _value_list(operand, path)
    if isinstance(operand, str):
        return m.AnythingButStrings(frozenset((operand,)))
    if is_number(operand):
        return m.AnythingButNumbers(frozenset((number_operand(operand, path),)))
    raise InvalidPattern("value of anything-but must be an array or a single string/number value", path)


def _value_list(values: list[Any], path: str) -> m.Matcher:
    if values and all(isinstance(value, str) for value in values):
        return m.AnythingButStrings(frozenset(values))
    if values and all(is_number(value) for value in values):
        return m.AnythingButNumbers(frozenset(number_operand(value, path) for value in values))
    raise InvalidPattern("anything-but list must hold only strings or only numbers, at least one", path)


def _nested(operand: Mapping[Any, Any], path: str) -> m.Matcher:
    if len(operand) != 1 or next(iter(operand)) not in _NESTED:
        raise InvalidPattern(f"anything-but object must hold exactly one of {', '.join(_NESTED)}", path)
    name, inner = next(iter(operand.items()))
    texts = _strings(inner, name, path)
    if name == "wildcard":
        return m.AnythingButWildcard(tuple(wildcard_operand(text, path) for text in texts))
    if name == "equals-ignore-case":
        return m.AnythingButIgnoreCase(tuple(IgnoreCase(text) for text in texts))
    if any(not text for text in texts):
        raise InvalidPattern(f"anything-but {name} must not be empty", path)
    if name == "prefix":
        return m.AnythingButPrefix(tuple(texts))
    return m.AnythingButSuffix(tuple(texts))


def _strings(inner: Any, name: str, path: str) -> list[str]:
    if isinstance(inner, list):
        if not inner:
            raise InvalidPattern(f"anything-but {name} list must not be empty", path)
        return [string_operand(each, name, path) for each in inner]
    return [string_operand(inner, name, path)]
