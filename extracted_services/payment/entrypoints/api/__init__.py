"""The payments API: exactly the monolith's ``/api/payments/`` (paths, bodies, statuses, error codes)."""
