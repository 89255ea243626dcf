"""The payment service's adapters: the ORM (models, repository, unit of work, outbox) and the fake gateway."""
