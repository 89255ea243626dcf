"""IP addresses and CIDR blocks the way event-ruler reads them.

A string is only tried as an address when it has the shape event-ruler's regular expressions accept (dotted quad,
or hex digits and colons), so ``::ffff:1.2.3.4`` is a plain string. IPv4-mapped IPv6 addresses become IPv4
addresses, as ``java.net.InetAddress`` makes them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

_IPV4_SHAPE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
_IPV6_SHAPE = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*", re.ASCII)
_MASK_BITS = re.compile(r"[+-]?[0-9]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class Address:
    """An address as an integer plus its width in bytes (4 or 16), so v4 and v6 never compare equal."""

    value: int
    width: int


@dataclass(frozen=True, slots=True)
class AddressRange:
    """An inclusive range of addresses of one width."""

    low: int
    high: int
    width: int

    def contains(self, address: Address) -> bool:
        return address.width == self.width and self.low <= address.value <= self.high


@lru_cache(maxsize=4096)
def parse_address(text: str) -> Address | None:
    """The address ``text`` spells, or ``None`` if event-ruler would treat it as an ordinary string."""
    try:
        if _IPV4_SHAPE.fullmatch(text):
            return Address(int(ipaddress.IPv4Address(text)), 4)
        if _IPV6_SHAPE.fullmatch(text):
            v6 = ipaddress.IPv6Address(text)
            mapped = v6.ipv4_mapped
            if mapped is not None:
                return Address(int(mapped), 4)
            return Address(int(v6), 16)
    except ValueError:
        return None
    return None


def parse_cidr(text: str) -> AddressRange:
    """The block ``text`` names; raises ``ValueError`` with the reason event-ruler would give."""
    parts = text.split("/")
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()  # java.lang.String.split drops trailing empty strings
    if len(parts) != 2:
        raise ValueError("malformed CIDR, one '/' required")
    if not _MASK_BITS.fullmatch(parts[1]):
        raise ValueError("malformed CIDR, mask bits must be an integer")
    bits = int(parts[1])
    if bits < 0:
        raise ValueError("malformed CIDR, mask bits must not be negative")
    base = parse_address(parts[0])
    if base is None:
        raise ValueError(f"invalid IP address {parts[0]!r}")
    total = base.width * 8
    # event-ruler refuses /32 and /128 (a single address is written as a plain string instead).
    if bits >= total:
        raise ValueError(f"IPv{4 if base.width == 4 else 6} mask bits must be < {total}")
    host_mask = (1 << (total - bits)) - 1
    return AddressRange(base.value & ~host_mask, base.value | host_mask, base.width)
