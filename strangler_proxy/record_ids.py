"""Record ids that say who created them, so a call naming only the record reaches its owner.

During a canary of a capability owned per order (payments, shipments), the side that creates a record is the one
the order's bucket picks; the record stays with that side until cut-over, even when a later, larger percent takes
the order's bucket into the canary (the service would not hold the record yet, or only a lagging copy). Later
calls name only the record (``POST /api/payments/<id>/capture/``), so the id carries it: a UUID version 8
(RFC 9562, custom layout) whose first 16 bits are the creating side (the top bit: the service) and the order's
bucket (0..9999), the other 106 free bits random. The proxy, the monolith and the service read it back with
``routing_bucket`` and apply the same rule (``buckets.in_canary`` through ``ownership.side_for_bucket``): a
record the service created is in every canary (bucket 0), one the monolith created in none (bucket 10,000) until
mode ``service`` moves every record. No lookup, no shared table.

Ids minted before the migration (UUID version 4) carry nothing: ``routing_bucket`` returns None and such records
follow the group's default side (the monolith) until cut-over.

>>> record_id = mint_record_id(bucket_of("order-7"), creator=Side.SERVICE)
>>> embedded_bucket(record_id) == bucket_of("order-7"), embedded_creator(record_id), routing_bucket(record_id)
(True, <Side.SERVICE: 'service'>, 0)
"""

from __future__ import annotations

import os
import uuid

from strangler_proxy.buckets import BUCKETS
from strangler_proxy.model import Side

__all__ = ["embedded_bucket", "embedded_creator", "mint_record_id", "routing_bucket"]

_VERSION = 8
_BY_SERVICE = 0x8000  # in the first 16 bits


def mint_record_id(bucket: int, *, creator: Side = Side.MONOLITH) -> uuid.UUID:
    """A fresh random id carrying ``creator`` and the order's ``bucket``."""
    if not 0 <= bucket < BUCKETS:
        raise ValueError(f"bucket must be in 0..{BUCKETS - 1}, got {bucket}")
    head = bucket | (_BY_SERVICE if creator is Side.SERVICE else 0)
    value = (head << 112) | int.from_bytes(os.urandom(14), "big")
    value &= ~(0xF << 76)
    value |= _VERSION << 76
    value &= ~(0x3 << 62)
    value |= 0x2 << 62  # RFC 9562 variant
    return uuid.UUID(int=value)


def _head(value: uuid.UUID | str | None) -> int | None:
    if value is None:
        return None
    if not isinstance(value, uuid.UUID):
        try:
            value = uuid.UUID(str(value).strip())
        except ValueError:
            return None
    if value.version != _VERSION or value.variant != uuid.RFC_4122:
        return None
    head = value.int >> 112
    return head if head & ~_BY_SERVICE < BUCKETS else None


def embedded_bucket(value: uuid.UUID | str | None) -> int | None:
    """The order's bucket a minted id carries, or None for any other id (legacy v4 ids, bad text, None)."""
    head = _head(value)
    return None if head is None else head & ~_BY_SERVICE


def embedded_creator(value: uuid.UUID | str | None) -> Side | None:
    """The side that created a record with a minted id, or None for any other id."""
    head = _head(value)
    if head is None:
        return None
    return Side.SERVICE if head & _BY_SERVICE else Side.MONOLITH


def routing_bucket(value: uuid.UUID | str | None) -> int | None:
    """The bucket to route a call on the record by: 0 (in every canary) for the service's records, 10,000 (in
    none) for the monolith's, None for ids that carry nothing."""
    creator = embedded_creator(value)
    if creator is None:
        return None
    return 0 if creator is Side.SERVICE else BUCKETS
