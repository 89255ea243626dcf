"""Amazon EventBridge event-pattern matching, pure Python (no Django, no I/O).

Implements the full pattern language as aws/event-ruler (the engine behind EventBridge) accepts it: exact values
(strings, numbers compared numerically, ``true``/``false``/``null``), ``prefix`` and ``suffix`` (each also with
``equals-ignore-case``), ``equals-ignore-case``, ``wildcard``, every ``anything-but`` form, ``numeric``, ``exists``,
``cidr``, ``$or``, and array-consistent matching of arrays of objects.

    >>> pattern = {"source": ["monolith/orders"], "detail-type": [{"prefix": "order."}]}
    >>> matches(pattern, {"source": "monolith/orders", "detail-type": "order.placed"})
    True
    >>> rule = compile_pattern(pattern)  # validate once, match many events fast
    >>> rule.matches({"source": "monolith/orders", "detail-type": "stock.reserved"})
    False

Errors: ``InvalidPattern`` (a ``ValueError``) for any pattern EventBridge would reject; ``TypeError`` for an event
that is not a JSON object of JSON values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._cache import PatternCache
from ._compiled import CompiledPattern
from ._errors import InvalidPattern

__all__ = ["CompiledPattern", "InvalidPattern", "compile_pattern", "matches", "validate"]

_CACHE = PatternCache(CompiledPattern, max_size=512)


def compile_pattern(pattern: Mapping[str, Any]) -> CompiledPattern:
    """Validate ``pattern`` and return its compiled form; raises InvalidPattern."""
    return CompiledPattern(pattern)


def validate(pattern: Mapping[str, Any]) -> None:
    """Raise InvalidPattern if EventBridge would reject ``pattern`` (for linting rule files without an event)."""
    CompiledPattern(pattern)


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches ``pattern``; raises InvalidPattern for an invalid pattern.

    Compiled patterns are cached, so calling this repeatedly with the same pattern costs little more than
    ``compile_pattern(pattern).matches(event)``; a router with many rules should still compile them up front.
    """
    return _CACHE.get(pattern).matches(event)
