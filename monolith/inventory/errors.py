from __future__ import annotations

from monolith.core.errors import Conflict


class InsufficientStock(Conflict):
    code = "insufficient_stock"
