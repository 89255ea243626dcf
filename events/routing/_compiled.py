"""Compiled patterns and the array-consistent search that matches them against events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._event import Chain, Fields, Occurrence, Paths, flatten
from ._leaves import STRING, Leaf
from ._matchers import ABSENT, ExactString, Matcher
from ._structure import Branch, parse_branches

Membership = Mapping[int, int]
_NO_MEMBERSHIP: Membership = {}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Everything one sub-rule asks of one dotted path."""

    path: str
    strings: frozenset[str]  # plain exact strings, checked with one set lookup
    matchers: tuple[Matcher, ...]
    may_be_absent: bool  # the value list holds {"exists": false}
    reads_addresses: bool  # IP-address strings are seen as addresses (see Matcher)

    @classmethod
    def build(cls, path: str, matchers: Sequence[Matcher]) -> FieldSpec:
        strings = frozenset(each.text for each in matchers if isinstance(each, ExactString))
        others = tuple(each for each in matchers if not isinstance(each, ExactString) and each is not ABSENT)
        reads_numbers = any(each.reads_numbers for each in matchers)
        reads_addresses = not reads_numbers and any(each.reads_addresses for each in matchers)
        return cls(path, strings, others, any(each is ABSENT for each in matchers), reads_addresses)

    def accepts(self, leaf: Leaf) -> bool:
        if self.reads_addresses:
            leaf = leaf.as_address() or leaf
        if leaf.kind == STRING and leaf.text in self.strings:
            return True
        for matcher in self.matchers:
            if matcher.matches(leaf):
                return True
        return False

    def satisfied_by(self, occurrences: Sequence[Occurrence]) -> bool:
        """Whether the spec holds, ignoring array consistency (exact when no value lies in an array of objects)."""
        for leaf, _ in occurrences:
            if self.accepts(leaf):
                return True
        return self.may_be_absent and not occurrences


def _merge(membership: Membership, chain: Chain) -> Membership | None:
    """``membership`` extended by ``chain``, or None when they disagree on an element of the same array."""
    added: dict[int, int] | None = None
    for array_id, index in chain:
        current = membership.get(array_id)
        if current is None:
            if added is None:
                added = dict(membership)
            added[array_id] = index
        elif current != index:
            return None
    return membership if added is None else added


def _consistent(occurrences: Sequence[Occurrence], membership: Membership) -> bool:
    return any(_merge(membership, chain) is not None for _, chain in occurrences)


def _search(specs: tuple[FieldSpec, ...], position: int, fields: Fields, membership: Membership) -> bool:
    """Can specs[position:] all be satisfied by values consistent with ``membership``?

    Fields are visited in event-ruler's order (sorted paths), and ``exists: false`` is judged against the array
    elements chosen so far, as event-ruler does.
    """
    if position == len(specs):
        return True
    spec = specs[position]
    occurrences = fields.get(spec.path)
    for leaf, chain in occurrences:
        if spec.accepts(leaf):
            merged = _merge(membership, chain) if chain else membership
            if merged is not None and _search(specs, position + 1, fields, merged):
                return True
    if spec.may_be_absent and not _consistent(occurrences, membership):
        return _search(specs, position + 1, fields, membership)
    return False


def _java_order(path: str) -> bytes:
    # Java sorts strings by UTF-16 code unit; this differs from Python's code point order only past the BMP.
    return path.encode("utf-16-be", "surrogatepass")


def _sub_rule(branch: Branch) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec.build(path, branch[path]) for path in sorted(branch, key=_java_order))


class CompiledPattern:
    """An EventBridge event pattern, validated once and ready to match many events.

        >>> rule = CompiledPattern({"source": ["orders"], "detail": {"total": [{"numeric": [">", 100]}]}})
        >>> rule.matches({"source": "orders", "detail": {"total": 250}})
        True

    Raises InvalidPattern when EventBridge would reject the pattern. Instances are immutable and thread-safe.
    """

    __slots__ = ("_sub_rules", "_paths")

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        self._sub_rules = tuple(_sub_rule(branch) for branch in parse_branches(pattern))
        self._paths = Paths(spec.path for sub_rule in self._sub_rules for spec in sub_rule)

    def __repr__(self) -> str:
        return f"<CompiledPattern: {len(self._sub_rules)} alternative(s) over {len(self._paths.names)} path(s)>"

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` (a JSON object, as parsed by ``json.loads``) matches this pattern."""
        fields = flatten(event, self._paths)
        if fields.in_arrays:
            return any(_search(sub_rule, 0, fields, _NO_MEMBERSHIP) for sub_rule in self._sub_rules)
        # The common case, no arrays of objects: each field can be judged on its own.
        get = fields.get
        return any(all(spec.satisfied_by(get(spec.path)) for spec in sub_rule) for sub_rule in self._sub_rules)
