"""Copy the monolith's records of a capability into a service, page by page, resumable at any point.

::

    reports = backfill(capability, client, page_size=500)

For each resource of the capability, in order, from its checkpoint's cursor:

1. read a page of the export (``GET /api/export/<path>?after=<cursor>&limit=<n>``);
2. in ONE transaction: store its records (``Resource.apply``: only what is newer than what the service has),
   seed the replica consumer's position of each record's aggregate with the record's ``sequence``, and move the
   checkpoint to the page's ``next``. (A resource may seed each record itself before storing it, taking the
   position's lock before its rows' as the inbox does; the engine's own seeding is then a no-op.)

So a backfill killed anywhere resumes after the last page it committed, with no record stored twice and none
missed; and the replica's consumer continues from the seeded positions: an event already in the snapshot has
no effect, the next one applies (docs/extraction.md, "Consistency").
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from tqdm import tqdm  # type: ignore[import-untyped]

from extracted_services.common.capability import BadRecord, Capability, Resource
from extracted_services.common.export_client import ExportBadResponse, ExportClient, ExportNotFound, Page
from extracted_services.common.models import BackfillCheckpoint
from extracted_services.common.positions import seed_position


@dataclass
class ResourceReport:
    name: str
    outcome: str  # copied | already done | skipped
    pages: int = 0
    records: int = 0
    applied: int = 0  # records that changed this service (the rest it already had, as new or newer)
    resumed: bool = False
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class BackfillOptions:
    page_size: int = 500
    restart: bool = False  # forget the checkpoints and copy everything again (idempotent anyway)
    pause: float = 0.0  # seconds between pages, to spare a busy monolith
    progress: bool | None = None  # None: a progress bar when stderr is a terminal


def backfill(capability: Capability, client: ExportClient, options: BackfillOptions) -> list[ResourceReport]:
    return [_copy(capability, resource, client, options) for resource in capability.resources]


def _copy(capability: Capability, resource: Resource, client: ExportClient, options: BackfillOptions) -> ResourceReport:
    checkpoint = _checkpoint(resource.name, restart=options.restart)
    if checkpoint.done:
        return ResourceReport(resource.name, "already done", records=checkpoint.records, note="--restart copies again")
    report = ResourceReport(resource.name, "copied", resumed=checkpoint.cursor is not None)
    cursor = checkpoint.cursor
    disable = None if options.progress is None else not options.progress
    with tqdm(desc=resource.name, unit=" records", file=sys.stderr, disable=disable, leave=False) as bar:
        while True:
            try:
                page = client.page(resource.path, after=cursor, limit=options.page_size)
            except ExportNotFound:
                if resource.optional and cursor is None:
                    return ResourceReport(resource.name, "skipped", note="the monolith does not export it")
                raise
            report.applied += _store(capability, resource, checkpoint.pk, page, cursor)
            report.pages += 1
            report.records += len(page.results)
            bar.update(len(page.results))
            if page.next is None:
                return report
            cursor = page.next
            if options.pause:
                time.sleep(options.pause)


def _checkpoint(resource: str, *, restart: bool) -> BackfillCheckpoint:
    checkpoint, _ = BackfillCheckpoint.objects.get_or_create(resource=resource)
    if restart:
        BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(cursor=None, done=False, records=0, pages=0)
        checkpoint.refresh_from_db()
    return checkpoint


def _store(capability: Capability, resource: Resource, checkpoint_id: int, page: Page, cursor: str | None) -> int:
    seeds = [_seed_of(capability, resource, record) for record in page.results] if resource.seeds else []
    with transaction.atomic():
        try:
            applied = resource.apply(page.results)
        except BadRecord as exc:
            raise ExportBadResponse(f"{resource.name}: {exc}") from None
        for aggregate_type, aggregate_id, sequence in seeds:
            seed_position(consumer=capability.consumer, aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                          sequence=sequence)  # fmt: skip
        BackfillCheckpoint.objects.filter(pk=checkpoint_id).update(
            cursor=page.next or cursor,
            done=page.next is None,
            records=F("records") + len(page.results),
            pages=F("pages") + 1,
        )
    return applied


def _seed_of(capability: Capability, resource: Resource, record: Mapping[str, Any]) -> tuple[str, str, int]:
    aggregate_type, aggregate_id, sequence = (record.get(k) for k in ("aggregate_type", "aggregate_id", "sequence"))
    if aggregate_type not in capability.aggregate_types or not isinstance(aggregate_id, str) or not aggregate_id:
        raise ExportBadResponse(
            f"{resource.name}: a record's aggregate_type/aggregate_id ({aggregate_type!r}, {aggregate_id!r}) is not "
            f"one of {', '.join(capability.aggregate_types)} with an id"
        )
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise ExportBadResponse(f"{resource.name}: record {aggregate_type}/{aggregate_id} has no valid sequence")
    return aggregate_type, aggregate_id, sequence


def summary(reports: list[ResourceReport], say: Callable[[str], None]) -> None:
    for r in reports:
        resumed = " (resumed)" if r.resumed else ""
        note = f" - {r.note}" if r.note else ""
        say(f"{r.name}: {r.outcome}{resumed}, {r.records} records in {r.pages} pages, {r.applied} applied{note}")
