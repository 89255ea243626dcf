"""The shipments API: exactly the monolith's ``/api/shipments/`` (paths, bodies, statuses, error codes)."""
