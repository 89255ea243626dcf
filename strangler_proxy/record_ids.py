"""Record ids that carry their owner's bucket, so a call naming only the record reaches the side that owns it.

During a canary of a capability owned per order (payments, shipments), the side that creates a record is the
one the order's bucket picks. Later calls name only the record (``POST /api/payments/<id>/capture/``), so the
record's id carries that bucket: a UUID version 8 (RFC 9562, custom layout) whose first 16 bits are the bucket
(0..9999) and whose other 106 free bits are random. The proxy, the monolith and the service read the bucket back
with ``embedded_bucket`` and apply the same rule (``buckets.in_canary``); no lookup, no shared table.

Ids minted before the migration (UUID version 4) carry no bucket: ``embedded_bucket`` returns None and such
records follow the group's default side (the monolith) until cut-over moves every record.

>>> record_id = mint_record_id(bucket_of("order-7"))
>>> embedded_bucket(record_id) == bucket_of("order-7")
True
"""

from __future__ import annotations

import os
import uuid

from strangler_proxy.buckets import BUCKETS

__all__ = ["embedded_bucket", "mint_record_id"]

_VERSION = 8


def mint_record_id(bucket: int) -> uuid.UUID:
    """A fresh random id whose embedded bucket is ``bucket``."""
    if not 0 <= bucket < BUCKETS:
        raise ValueError(f"bucket must be in 0..{BUCKETS - 1}, got {bucket}")
    value = (bucket << 112) | int.from_bytes(os.urandom(14), "big")
    value &= ~(0xF << 76)
    value |= _VERSION << 76
    value &= ~(0x3 << 62)
    value |= 0x2 << 62  # RFC 9562 variant
    return uuid.UUID(int=value)


def embedded_bucket(value: uuid.UUID | str | None) -> int | None:
    """The bucket a minted id carries, or None for any other id (legacy v4 ids, bad text, None)."""
    if value is None:
        return None
    if not isinstance(value, uuid.UUID):
        try:
            value = uuid.UUID(str(value).strip())
        except ValueError:
            return None
    if value.version != _VERSION or value.variant != uuid.RFC_4122:
        return None
    bucket = value.int >> 112
    return bucket if bucket < BUCKETS else None
