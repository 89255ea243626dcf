"""Compare a capability's records on both sides: counts, checksums, ids missing or differing.

::

    diffs = reconcile(capability, client, page_size=500)
    all(d.equal for d in diffs)

A record's checksum is the sha256 of the canonical JSON (sorted keys, no spaces) of the document fields both
sides hold (``Resource.shared``), so ids, timestamps and the export's bookkeeping fields do not count.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm  # type: ignore[import-untyped]

from extracted_services.common.capability import Capability, Record, Resource
from extracted_services.common.export_client import ExportClient, ExportNotFound


def checksum(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ResourceDiff:
    name: str
    monolith: int | None  # None: the monolith does not export this (optional) resource
    service: int
    missing: list[str] = field(default_factory=list)  # in the monolith only
    extra: list[str] = field(default_factory=list)  # in the service only
    differing: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.missing or self.extra or self.differing)

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.name, "monolith": self.monolith, "service": self.service, "equal": self.equal,
            "missing": self.missing, "extra": self.extra, "differing": self.differing,
        }  # fmt: skip


def reconcile(
    capability: Capability, client: ExportClient, *, page_size: int, progress: bool | None = False
) -> list[ResourceDiff]:
    """``progress``: a bar per resource on stderr (None: only when stderr is a terminal)."""
    return [_compare(resource, client, page_size, progress) for resource in capability.resources]


def _compare(resource: Resource, client: ExportClient, page_size: int, progress: bool | None) -> ResourceDiff:
    ours = _digests(resource, resource.local())
    disable = None if progress is None else not progress
    try:
        with tqdm(desc=f"{resource.name} (monolith)", unit=" records", file=sys.stderr, disable=disable,
                  leave=False) as bar:  # fmt: skip
            records = (r for page in client.pages(resource.path, limit=page_size) for r in page.results)
            theirs = _digests(resource, _counted(records, bar))
    except ExportNotFound:
        if not resource.optional:
            raise
        return ResourceDiff(resource.name, monolith=None, service=len(ours))
    return ResourceDiff(
        resource.name,
        monolith=len(theirs),
        service=len(ours),
        missing=sorted(theirs.keys() - ours.keys()),
        extra=sorted(ours.keys() - theirs.keys()),
        differing=sorted(k for k in theirs.keys() & ours.keys() if theirs[k] != ours[k]),
    )


def _counted(records: Iterable[Record], bar: Any) -> Iterable[Record]:
    for record in records:
        bar.update(1)
        yield record


def _digests(resource: Resource, records: Iterable[Record]) -> dict[str, str]:
    return {resource.key(record): checksum(resource.shared(record)) for record in records}


def render_table(diffs: list[ResourceDiff], *, show_ids: int = 20) -> str:
    rows: list[tuple[str, ...]] = [("resource", "monolith", "service", "missing", "extra", "differing", "")]
    for d in diffs:
        verdict = "not exported" if d.monolith is None else ("equal" if d.equal else "DIFFERENT")
        monolith = "-" if d.monolith is None else str(d.monolith)
        counts = map(str, (len(d.missing), len(d.extra), len(d.differing)))
        rows.append((d.name, monolith, str(d.service), *counts, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [_row(row, widths) for row in rows]
    for d in diffs:
        for label, ids in (("missing in the service", d.missing), ("only in the service", d.extra),
                           ("differing", d.differing)):  # fmt: skip
            if ids:
                more = f" … and {len(ids) - show_ids} more" if len(ids) > show_ids else ""
                lines.append(f"{d.name} {label}: {', '.join(ids[:show_ids])}{more}")
    return "\n".join(lines)


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    first, *rest = cells
    aligned = [first.ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
    return "  ".join(aligned).rstrip()
