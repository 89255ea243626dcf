"""What a service replicates of the monolith, as data: the backfill, reconcile and replication status engines
are generic and read everything capability-specific from here.

::

    Capability(
        name="inventory", consumer="inventory", aggregate_types=("stock", "reservation"),
        resources=(Resource(name="stock", path="inventory/stock/", key=..., shared=..., apply=..., local=...),),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Record = Mapping[str, Any]


class BadRecord(ValueError):
    """An export record (or event document) a resource cannot store; the message names the record and field."""


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One export resource (docs/extraction.md, "Export API") and how this service stores and compares it."""

    name: str  # its checkpoint key and report label, e.g. "stock"
    path: str  # under /api/export/, e.g. "inventory/stock/"
    key: Callable[[Record], str]  # a record's identity, the same on both sides
    shared: Callable[[Record], dict[str, Any]]  # the document fields both sides hold, normalised for checksums
    apply: Callable[[Sequence[Record]], int]  # store a page of export records (the newer ones); returns how many
    local: Callable[[], Iterable[Record]]  # this service's documents, in the export's shape
    optional: bool = False  # a monolith that does not export it (404) is not an error: skipped with a note
    seeds: bool = True  # its records name an event aggregate and sequence: seed the replica's position with them


@dataclass(frozen=True, kw_only=True)
class Capability:
    name: str  # in the export's URLs: /api/export/<name>/position
    consumer: str  # the replica's consumer name (its positions are what "applied" counts)
    aggregate_types: tuple[str, ...]
    resources: tuple[Resource, ...]

    def resource(self, name: str) -> Resource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)
