"""The inventory service: the monolith's inventory API and events on its own database (docs/extraction.md)."""
