"""The monolith's business error tree.

::

    DomainError                  (status 400 unless a subclass says otherwise)
     ├── NotFound                404
     ├── Conflict                409  e.g. InsufficientStock, InvalidTransition
     ├── PaymentDeclined         402
     ├── CapabilityMoved         421  the capability's writes moved to its service (the cut-over fence)
     └── UpstreamUnavailable     503  a dependency (the payment gateway) failed transiently

Services raise these; the API layer turns each into the JSON error shape
``{"error": {"code", "message", "details"}}`` with ``status`` as the HTTP status. Raising one inside
``transaction.atomic`` rolls the whole business change back, so nothing is half-written.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details if details is not None else {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"


class CapabilityMoved(DomainError):
    status = 421  # Misdirected Request: this server no longer answers for the capability
    code = "capability_moved"


class UpstreamUnavailable(DomainError):
    status = 503
    code = "upstream_unavailable"
