"""The one error the pattern matcher raises for a pattern EventBridge would reject."""

from __future__ import annotations


class InvalidPattern(ValueError):
    """An event pattern that EventBridge (aws/event-ruler) would refuse to add as a rule.

    ``path`` names the field (dotted, as the matcher flattens it) where the problem was found, or is ``None`` for
    problems with the pattern as a whole; ``reason`` says what is wrong.

        >>> try:
        ...     validate({"source": "orders"})
        ... except InvalidPattern as error:
        ...     print(error.path, "-", error.reason)
        source - value must be an object or a non-empty array
    """

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)
