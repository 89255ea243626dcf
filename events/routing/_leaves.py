"""Event leaf values, typed the way event-ruler sees them after flattening an event."""

from __future__ import annotations

from typing import Any, Final

from ._ip import Address, parse_address
from ._numbers import comparable_key, number_text

STRING: Final = 0
NUMBER: Final = 1
LITERAL: Final = 2  # true, false, null
ADDRESS: Final = 3  # a string read as an IP address because its field has a cidr pattern


class Leaf:
    """One scalar of the event: its kind, its JSON text (strings unquoted), and for numbers the comparable key."""

    __slots__ = ("kind", "text", "key", "address")

    def __init__(self, kind: int, text: str, key: int | None = None, address: Address | None = None) -> None:
        self.kind = kind
        self.text = text
        self.key = key
        self.address = address

    def __repr__(self) -> str:
        return f"Leaf({self.kind}, {self.text!r})"

    def as_address(self) -> Leaf | None:
        """This string seen as an IP address, if it is one."""
        if self.kind != STRING:
            return None
        address = parse_address(self.text)
        return None if address is None else Leaf(ADDRESS, self.text, address=address)


_TRUE: Final = Leaf(LITERAL, "true")
_FALSE: Final = Leaf(LITERAL, "false")
_NULL: Final = Leaf(LITERAL, "null")


def leaf_of(value: Any) -> Leaf:
    """The leaf for a JSON scalar; raises ``TypeError`` for anything ``json.loads`` could not have produced."""
    if isinstance(value, str):
        return Leaf(STRING, value)
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    if value is None:
        return _NULL
    if isinstance(value, int | float):
        return Leaf(NUMBER, number_text(value), comparable_key(value))
    raise TypeError(f"event values must be JSON types, not {type(value).__name__}")
