"""Waking relays soon after a commit, without a database-wide NOTIFY on every transaction.

The default does nothing: relays poll with an adaptive sleep. The relay issue's Redis wake-up replaces it.
"""

from __future__ import annotations


def notify_relays() -> None:
    return None
