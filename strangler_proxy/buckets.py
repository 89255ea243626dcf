"""Sticky canary: a business key picks one of 10,000 buckets; a percent owns the lowest buckets.

The bucket is the first 8 bytes of BLAKE2b (8-byte digest) of the key's UTF-8 bytes, read big-endian, modulo
10,000. BLAKE2b is in every Python's hashlib and its output never depends on the process (unlike ``hash()``), the
platform or the Python version; the modulo bias over 2**64 is below 1e-15. Changing this function moves customers
between sides mid-canary, so tests pin a few buckets as a regression guard.

``choose_side`` is the one routing rule: the proxy applies it to a request's bucket, and the monolith and the
services apply it (through ``strangler_proxy.ownership.side_for_bucket``) to a record's bucket.

>>> side = choose_side(Mode.CANARY, 5.0, bucket_of("customer-42"), Side.MONOLITH)
"""

from __future__ import annotations

import hashlib
import math

from strangler_proxy.model import Mode, Side

__all__ = ["BUCKETS", "bucket_of", "choose_side", "in_canary"]

BUCKETS = 10_000


def bucket_of(key: str) -> int:
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def in_canary(bucket: int, percent: float) -> bool:
    """Buckets below ``percent`` hundredths are in: 5% is buckets 0..499, so raising the percent only adds."""
    # Floor with a tolerance so that 0.07 (7.000000000000001 hundredths) owns exactly 7 buckets.
    threshold = math.floor(percent * (BUCKETS / 100) + 1e-6)
    return bucket < threshold


def choose_side(mode: Mode, percent: float, bucket: int | None, default: Side) -> Side:
    """Where a request (or a record) of ``bucket`` goes. Shadow answers from the monolith; canary at 0% or 100%
    ignores the bucket (and its absence); between them no bucket (no key, a legacy id) means ``default``."""
    if mode is Mode.SERVICE:
        return Side.SERVICE
    if mode is not Mode.CANARY or percent <= 0:
        return Side.MONOLITH
    if percent >= 100:
        return Side.SERVICE
    if bucket is None:
        return default
    return Side.SERVICE if in_canary(bucket, percent) else Side.MONOLITH
