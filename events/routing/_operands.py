"""Checks shared by the operator parsers: each returns a clean operand or raises InvalidPattern."""

from __future__ import annotations

import math
from typing import Any

from ._errors import InvalidPattern
from ._numbers import comparable_key, is_number, number_text
from ._text import Wildcard


def string_operand(operand: Any, name: str, path: str) -> str:
    if not isinstance(operand, str):
        raise InvalidPattern(f"{name} match pattern must be a string", path)
    return operand


def number_key_or_none(value: int | float, path: str) -> int | None:
    """The comparable key of a pattern number, ``None`` if event-ruler can only match it literally."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidPattern("numbers must be finite", path)
    return comparable_key(value)


def number_operand(operand: Any, path: str) -> int:
    """The comparable key of an operand that must be a number event-ruler can compare."""
    if not is_number(operand):
        raise InvalidPattern("numeric operands must be numbers", path)
    key = number_key_or_none(operand, path)
    if key is None:
        raise InvalidPattern(f"cannot compare number {number_text(operand)} (not exactly a double)", path)
    return key


def wildcard_operand(operand: Any, path: str) -> Wildcard:
    text = string_operand(operand, "wildcard", path)
    try:
        return Wildcard.parse(text)
    except ValueError as error:
        raise InvalidPattern(f"wildcard {text!r}: {error}", path) from None
