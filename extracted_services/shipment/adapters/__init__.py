"""The shipment service's adapters: the ORM (models, repository, unit of work, outbox)."""
