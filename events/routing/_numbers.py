"""JSON numbers as event-ruler compares them.

event-ruler turns every number it can into a 64-bit key whose unsigned order is the order of the doubles (sign bit
flipped for positives, all bits flipped for negatives), and compares keys. A number is only "comparable" when its
double, written back in shortest form, is the same decimal: ``123456789012345678901`` is not, so it can only match
the identical literal. One consequence worth knowing: ``-0.0`` and ``0`` are different keys, as in event-ruler.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal

_SIGN = 1 << 63
_ALL_BITS = (1 << 64) - 1
# Below 2**53 every integer is a double whose shortest form is its own digits, so the Decimal check can be skipped.
_EXACT_INT_LIMIT = 1 << 53


def is_number(value: object) -> bool:
    """True for JSON numbers (``bool`` is an ``int`` in Python but a literal in JSON)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_text(value: int | float) -> str:
    """The text ``json.dumps`` would write for the number: what event-ruler compares literally."""
    return str(value) if isinstance(value, int) else repr(value)


def comparable_key(value: int | float) -> int | None:
    """The ordered key of ``value``, or ``None`` when event-ruler could not compare it numerically."""
    if isinstance(value, int):
        if -_EXACT_INT_LIMIT < value < _EXACT_INT_LIMIT:
            return _key(float(value))
        try:
            as_float = float(value)
        except OverflowError:
            return None
        if Decimal(repr(as_float)) != value:
            return None
        return _key(as_float)
    if not math.isfinite(value):
        return None
    return _key(value)


def _key(value: float) -> int:
    bits: int = int.from_bytes(struct.pack(">d", value), "big")
    if bits & _SIGN:
        return bits ^ _ALL_BITS
    return bits | _SIGN
