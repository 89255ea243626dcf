"""A small thread-safe LRU cache of compiled patterns, keyed by the pattern's ``repr``.

``repr`` rather than JSON: it tells ``1`` from ``"1"`` and ``True`` and a tuple from a list, so two patterns share
an entry only if they would compile identically.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PatternCache(Generic[T]):
    """Compile on first use, then reuse; the least recently used entry goes once ``max_size`` is reached."""

    def __init__(self, compile: Callable[[Mapping[str, Any]], T], *, max_size: int) -> None:
        self._compile = compile
        self._max_size = max_size
        self._entries: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, pattern: Mapping[str, Any]) -> T:
        key = repr(pattern)
        with self._lock:
            compiled = self._entries.get(key)
            if compiled is not None:
                self._entries.move_to_end(key)
                return compiled
        compiled = self._compile(pattern)  # outside the lock: compiling may be slow, and may raise
        with self._lock:
            self._entries[key] = compiled
            if len(self._entries) > self._max_size:
                self._entries.popitem(last=False)
        return compiled
