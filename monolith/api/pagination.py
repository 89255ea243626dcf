"""Limit/offset pagination whose page bounds always fit the database's integers.

DRF's ``LimitOffsetPagination`` passes any ``?limit=`` and ``?offset=`` to the query as they come, so
``?limit=99999999999999999999`` overflows SQLite's and PostgreSQL's 64-bit integers and answers 500. Here the
limit is capped at ``max_limit`` and the offset at ``max_offset`` (past the last row: an empty page), and the
schema documents both ranges.
"""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 200
    max_offset = 1_000_000_000

    def get_offset(self, request: Request) -> int:
        return min(int(super().get_offset(request)), self.max_offset)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": self.max_offset},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
