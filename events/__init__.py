"""Event backbone (CloudEvents envelope, outbox, relay, router, consumers): built in the event-backbone issue."""
