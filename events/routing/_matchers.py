"""Value matchers: one small class per operator, each answering "does this leaf match?".

Every string operator compares against strings only (event-ruler quotes strings, so ``{"prefix": "1"}`` never
matches the number ``12``); numeric operators compare only numbers event-ruler can compare; anything-but matchers
fail only on a value of their own type, so ``{"anything-but": "x"}`` matches ``null`` and ``5``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from ._ip import Address, AddressRange
from ._leaves import ADDRESS, LITERAL, NUMBER, STRING, Leaf
from ._text import IgnoreCase, Wildcard


class Matcher:
    """Base of all matchers.

    ``reads_numbers`` and ``reads_addresses`` mark operators that change how event-ruler reads every value of the
    field: with a numeric operator present, numbers become comparable keys and strings are never read as IP
    addresses; otherwise, with a cidr (or an address in a value list) present, strings that are IP addresses are
    read as addresses only, so string operators on the same field no longer see them.
    """

    __slots__ = ()

    reads_numbers: ClassVar[bool] = False
    reads_addresses: ClassVar[bool] = False

    def matches(self, leaf: Leaf) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ExactString(Matcher):
    text: str

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == STRING and leaf.text == self.text


@dataclass(frozen=True, slots=True)
class ExactLiteral(Matcher):
    """``true``, ``false`` or ``null`` (kind checked so ``null`` never equals the string ``"null"``)."""

    text: str

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == LITERAL and leaf.text == self.text


@dataclass(frozen=True, slots=True)
class ExactNumber(Matcher):
    """A number in a value list that event-ruler can compare: ``5`` matches ``5.0`` and ``5e0``."""

    reads_numbers: ClassVar[bool] = True
    key: int

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == NUMBER and leaf.key == self.key


@dataclass(frozen=True, slots=True)
class ExactNumberText(Matcher):
    """A number too big or too precise to compare (``123456789012345678901``): only the same literal matches."""

    text: str

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == NUMBER and leaf.text == self.text


@dataclass(frozen=True, slots=True)
class ExactAddress(Matcher):
    """A string value list entry that is an IP address: matches any spelling of the same address."""

    reads_addresses: ClassVar[bool] = True
    value: Address

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == ADDRESS and leaf.address == self.value


@dataclass(frozen=True, slots=True)
class Cidr(Matcher):
    reads_addresses: ClassVar[bool] = True
    block: AddressRange

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == ADDRESS and leaf.address is not None and self.block.contains(leaf.address)


@dataclass(frozen=True, slots=True)
class Prefix(Matcher):
    text: str

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == STRING and leaf.text.startswith(self.text)


@dataclass(frozen=True, slots=True)
class Suffix(Matcher):
    text: str

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == STRING and leaf.text.endswith(self.text)


@dataclass(frozen=True, slots=True)
class EqualsIgnoreCase(Matcher):
    folded: IgnoreCase

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == STRING and self.folded.equals(leaf.text)


@dataclass(frozen=True, slots=True)
class PrefixIgnoreCase(Matcher):
    folded: IgnoreCase

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == STRING and self.folded.starts(leaf.text)


@dataclass(frozen=True, slots=True)
class SuffixIgnoreCase(Matcher):
    folded: IgnoreCase

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == STRING and self.folded.ends(leaf.text)


@dataclass(frozen=True, slots=True)
class WildcardMatch(Matcher):
    wildcard: Wildcard

    def matches(self, leaf: Leaf) -> bool:
        return leaf.kind == STRING and self.wildcard.matches(leaf.text)


@dataclass(frozen=True, slots=True)
class NumericRange(Matcher):
    """``numeric`` with bounds as comparable keys; ``None`` means unbounded on that side."""

    reads_numbers: ClassVar[bool] = True
    low: int | None
    low_open: bool
    high: int | None
    high_open: bool

    def matches(self, leaf: Leaf) -> bool:
        key = leaf.key
        if leaf.kind != NUMBER or key is None:
            return False
        if self.low is not None and (key <= self.low if self.low_open else key < self.low):
            return False
        return self.high is None or (key < self.high if self.high_open else key <= self.high)


@dataclass(frozen=True, slots=True)
class Exists(Matcher):
    """``{"exists": true}``: any leaf at the path. (``exists: false`` is not a value matcher; see FieldSpec.)"""

    def matches(self, leaf: Leaf) -> bool:
        return True


class Absent(Matcher):
    """``{"exists": false}``: matches no value; the field spec turns it into "the path may be absent"."""

    __slots__ = ()

    def matches(self, leaf: Leaf) -> bool:
        return False


ABSENT: Final = Absent()


@dataclass(frozen=True, slots=True)
class AnythingButStrings(Matcher):
    texts: frozenset[str]

    def matches(self, leaf: Leaf) -> bool:
        return not (leaf.kind == STRING and leaf.text in self.texts)


@dataclass(frozen=True, slots=True)
class AnythingButNumbers(Matcher):
    reads_numbers: ClassVar[bool] = True
    keys: frozenset[int]

    def matches(self, leaf: Leaf) -> bool:
        return not (leaf.kind == NUMBER and leaf.key in self.keys)


@dataclass(frozen=True, slots=True)
class AnythingButPrefix(Matcher):
    prefixes: tuple[str, ...]

    def matches(self, leaf: Leaf) -> bool:
        return not (leaf.kind == STRING and leaf.text.startswith(self.prefixes))


@dataclass(frozen=True, slots=True)
class AnythingButSuffix(Matcher):
    suffixes: tuple[str, ...]

    def matches(self, leaf: Leaf) -> bool:
        return not (leaf.kind == STRING and leaf.text.endswith(self.suffixes))


@dataclass(frozen=True, slots=True)
class AnythingButIgnoreCase(Matcher):
    folded: tuple[IgnoreCase, ...]

    def matches(self, leaf: Leaf) -> bool:
        return not (leaf.kind == STRING and any(each.equals(leaf.text) for each in self.folded))


@dataclass(frozen=True, slots=True)
class AnythingButWildcard(Matcher):
    wildcards: tuple[Wildcard, ...]

    def matches(self, leaf: Leaf) -> bool:
        return not (leaf.kind == STRING and any(each.matches(leaf.text) for each in self.wildcards))
