"""Flattening an event into dotted paths, keeping track of which array element each value came from.

Every array met gets an id; every value inside an object or array that is itself an array element records
``(array id, element index)`` for each such enclosing array (its "chain"). Scalars directly in an array record
nothing for that array, so ``"tags": ["a", "b"]`` imposes no consistency, exactly as in event-ruler.

Only the paths a pattern reads are visited: each object is probed with ``dict.get`` for the remaining steps of
those paths, including dotted remainders, because event-ruler joins keys with "." and so lets the pattern path
``a.b`` read both ``{"a": {"b": 1}}`` and ``{"a.b": 1}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from ._leaves import Leaf, leaf_of

Chain = tuple[tuple[int, int], ...]
Occurrence = tuple[Leaf, Chain]
# (key to look up in the object, full dotted path it leads to, whether the pattern reads that path)
Probe = tuple[str, str, bool]

_MISSING: Final = object()
_NONE: Final[list[Occurrence]] = []


class Paths:
    """The dotted paths a pattern reads, precomputed as the probes to make in each object on the way to them."""

    __slots__ = ("names", "probes")

    def __init__(self, paths: Iterable[str]) -> None:
        self.names = frozenset(paths)
        wanted = {name: True for name in self.names}
        for name in self.names:
            steps = name.split(".")
            for end in range(1, len(steps)):
                wanted.setdefault(".".join(steps[:end]), False)
        self.probes: dict[str | None, tuple[Probe, ...]] = {
            None: tuple((path, path, is_name) for path, is_name in wanted.items())
        }
        for node in wanted:
            below = node + "."
            self.probes[node] = tuple(
                (path[len(below) :], path, is_name) for path, is_name in wanted.items() if path.startswith(below)
            )


class Fields:
    """The occurrences of each wanted path in one event."""

    __slots__ = ("by_path", "in_arrays")

    def __init__(self) -> None:
        self.by_path: dict[str, list[Occurrence]] = {}
        self.in_arrays = False  # some occurrence lies inside an array of objects or arrays

    def get(self, path: str) -> list[Occurrence]:
        return self.by_path.get(path, _NONE)


def flatten(event: Mapping[str, Any], paths: Paths) -> Fields:
    """The occurrences of every path in ``paths`` found in ``event``."""
    if not isinstance(event, dict | Mapping):
        raise TypeError(f"an event must be a JSON object (a mapping), not {type(event).__name__}")
    walker = _Walker(paths.probes)
    walker.walk_object(event, None, ())
    return walker.fields


class _Walker:
    __slots__ = ("probes", "fields", "arrays")

    def __init__(self, probes: dict[str | None, tuple[Probe, ...]]) -> None:
        self.probes = probes
        self.fields = Fields()
        self.arrays = 0

    def walk_object(self, obj: Mapping[str, Any], node: str | None, chain: Chain) -> None:
        for key, path, is_name in self.probes[node]:
            value = obj.get(key, _MISSING)
            if value is _MISSING:
                continue
            if isinstance(value, dict):
                self.walk_object(value, path, chain)
            elif isinstance(value, list):
                self.walk_array(value, path, is_name, chain)
            elif is_name:
                self.record(path, value, chain)

    def walk_array(self, array: list[Any], path: str, is_name: bool, chain: Chain) -> None:
        array_id = self.arrays
        self.arrays += 1
        for index, element in enumerate(array):
            if isinstance(element, dict):
                self.walk_object(element, path, (*chain, (array_id, index)))
            elif isinstance(element, list):
                self.walk_array(element, path, is_name, (*chain, (array_id, index)))
            elif is_name:
                self.record(path, element, chain)

    def record(self, path: str, value: Any, chain: Chain) -> None:
        self.fields.by_path.setdefault(path, []).append((leaf_of(value), chain))
        if chain:
            self.fields.in_arrays = True
