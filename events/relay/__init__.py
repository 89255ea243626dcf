"""The outbox relay (see ``events.relay.loop``)."""

from __future__ import annotations

from events.relay.loop import Relay, RelayStats

__all__ = ["Relay", "RelayStats"]
