"""String operators that need more than ``str`` methods: wildcards and equals-ignore-case."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BMP_LIMIT = 0xFFFF


@dataclass(frozen=True, slots=True)
class Wildcard:
    """A wildcard as its literal segments: ``"a*b\\\\*c"`` is ``("a", "b*c")``.

    Matching is greedy left-to-right search for the middle segments, linear in practice and never the exponential
    backtracking a translated regular expression could hit.
    """

    segments: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Wildcard:
        """Split ``text`` on unescaped ``*``; raises ``ValueError`` for ``**`` and bad escapes, as event-ruler does."""
        segments: list[str] = []
        current: list[str] = []
        index = 0
        while index < len(text):
            char = text[index]
            following = text[index + 1] if index + 1 < len(text) else ""
            if char == "*":
                if following == "*":
                    raise ValueError(f"consecutive wildcard characters at position {index}")
                segments.append("".join(current))
                current = []
            elif char == "\\":
                if following not in ("*", "\\"):
                    raise ValueError(f"invalid escape character at position {index}")
                current.append(following)
                index += 1
            else:
                current.append(char)
            index += 1
        segments.append("".join(current))
        return cls(tuple(segments))

    def matches(self, value: str) -> bool:
        segments = self.segments
        first = segments[0]
        if len(segments) == 1:
            return value == first
        last = segments[-1]
        if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
            return False
        position, end = len(first), len(value) - len(last)
        for middle in segments[1:-1]:
            found = value.find(middle, position, end)
            if found < 0:
                return False
            position = found + len(middle)
        return True


class IgnoreCase:
    """Case-insensitive comparison with event-ruler's rule: each pattern character matches its own lower- or
    upper-case form (so ``"ß"`` matches ``"SS"`` but ``"k"`` does not match the Kelvin sign).

        >>> IgnoreCase("Alice").equals("aLICE")
        True
    """

    __slots__ = ("_folded", "_regex", "_length")

    def __init__(self, text: str) -> None:
        self._folded = text.lower() if text.isascii() else None
        self._length = len(text)
        self._regex = re.compile("".join(_alternatives(char) for char in text), re.DOTALL)

    def equals(self, value: str) -> bool:
        if self._folded is not None and value.isascii():
            return value.lower() == self._folded
        return self._regex.fullmatch(value) is not None

    def starts(self, value: str) -> bool:
        if self._folded is not None and value.isascii():
            return value[: self._length].lower() == self._folded
        return self._regex.match(value) is not None

    def ends(self, value: str) -> bool:
        if self._folded is not None and value.isascii():
            return len(value) >= self._length and value[len(value) - self._length :].lower() == self._folded
        return any(self._regex.fullmatch(value, start) for start in range(len(value) + 1))


def _alternatives(char: str) -> str:
    # Java folds UTF-16 units one at a time, so characters outside the BMP (surrogate pairs) only match themselves.
    forms = {char} if ord(char) > _BMP_LIMIT else {char.lower(), char.upper()}
    escaped = sorted((re.escape(form) for form in forms), key=len, reverse=True)
    return escaped[0] if len(escaped) == 1 else "(?:" + "|".join(escaped) + ")"
