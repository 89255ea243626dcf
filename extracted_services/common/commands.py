"""The management commands every service has, written once; each service binds them to its capability::

    # extracted_services/inventory/management/commands/backfill.py
    class Command(BackfillCommand):
        def capability(self) -> Capability:
            return bootstrap.capability()

Bad input (options, token, an unreachable or refusing monolith) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from extracted_services.common.backfill import BackfillOptions, backfill, summary
from extracted_services.common.capability import Capability
from extracted_services.common.config import ServiceConfig
from extracted_services.common.export_client import ExportClient, ExportError, TokenMissing, resolve_token
from extracted_services.common.reconcile import reconcile, render_table
from extracted_services.common.replication import replication_status, source_events
from extracted_services.common.settings_builder import service_config

MAX_PAGE_SIZE = 2000


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class _CapabilityCommand(BaseCommand):
    def capability(self) -> Capability:
        raise NotImplementedError

    @property
    def config(self) -> ServiceConfig:
        return service_config()


class _ExportCommand(_CapabilityCommand):
    """Options and client for commands reading the monolith's export API."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--monolith-url", help="the monolith's base URL (default: MONOLITH_URL)")
        parser.add_argument("--token", help="a staff access token (default: MONOLITH_TOKEN)")
        parser.add_argument("--token-file", type=Path, help="a file holding the token (default: MONOLITH_TOKEN_FILE)")
        parser.add_argument("--page-size", default="500", help=f"records per page, 1-{MAX_PAGE_SIZE} (default: 500)")
        parser.add_argument("--timeout", default="30", help="seconds per export request (default: 30)")

    def client(self, options: dict[str, Any]) -> ExportClient:
        try:
            token = resolve_token(token=options["token"], token_file=options["token_file"], config=self.config)
        except TokenMissing as exc:
            raise _bad(str(exc)) from None
        timeout = _number("--timeout", options["timeout"], float, 0.1, 3600)
        return ExportClient(options["monolith_url"] or self.config.monolith_url, token, timeout=timeout)

    def page_size(self, options: dict[str, Any]) -> int:
        return int(_number("--page-size", options["page_size"], int, 1, MAX_PAGE_SIZE))


def _progress_flags(parser: CommandParser) -> None:
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress", action="store_true", default=None, help="always show progress bars (default: on a terminal)"
    )
    progress.add_argument("--no-progress", dest="progress", action="store_false", help="never show them")


def _number(flag: str, raw: Any, kind: type[int] | type[float], low: float, high: float) -> float:
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise _bad(f"{flag} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise _bad(f"{flag} must be from {low:g} to {high:g}, got {raw}")
    return value


class BackfillCommand(_ExportCommand):
    help = (
        "Copy the monolith's records of this capability through its export API, page by page; each page, its "
        "consumer-position seeds and the checkpoint commit together, so a killed run resumes where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--restart", action="store_true", help="forget the checkpoints and copy everything again")
        parser.add_argument("--pause", default="0", help="seconds to wait between pages (default: 0)")
        _progress_flags(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        backfill_options = BackfillOptions(
            page_size=self.page_size(options), restart=options["restart"], progress=options["progress"],
            pause=_number("--pause", options["pause"], float, 0, 3600),
        )  # fmt: skip
        with self.client(options) as client:
            try:
                reports = backfill(self.capability(), client, backfill_options)
            except ExportError as exc:
                raise _bad(f"backfill stopped (resume by running it again): {exc}") from None
        summary(reports, self.stdout.write)


class ReconcileCommand(_ExportCommand):
    help = (
        "Compare this capability's records with the monolith's: counts, per-record checksums, missing and "
        "differing ids. Exit 0 when equal, 1 when they differ, 2 on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
        parser.add_argument("--show-ids", default="20", help="ids listed per difference in the table (default: 20)")
        _progress_flags(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        show_ids = int(_number("--show-ids", options["show_ids"], int, 0, 1_000_000))
        with self.client(options) as client:
            try:
                diffs = reconcile(
                    self.capability(), client, page_size=self.page_size(options), progress=options["progress"]
                )
            except ExportError as exc:
                raise _bad(str(exc)) from None
        equal = all(d.equal for d in diffs)
        if options["json"]:
            body = {"capability": self.capability().name, "equal": equal, "resources": [d.to_json() for d in diffs]}
            self.stdout.write(json.dumps(body, indent=2))
        else:
            self.stdout.write(render_table(diffs, show_ids=show_ids))
        if not equal:
            sys.stdout.flush()
            raise SystemExit(1)


class ReplicationStatusCommand(_CapabilityCommand):
    help = "Print how far the replica has caught up with the monolith, as JSON (docs/extraction.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--token", help="a staff access token for the monolith (default: MONOLITH_TOKEN)")
        parser.add_argument("--timeout", default="5", help="seconds to wait for the monolith (default: 5)")

    def handle(self, *args: Any, **options: Any) -> None:
        capability = self.capability()
        timeout = _number("--timeout", options["timeout"], float, 0.1, 600)
        count = source_events(capability, self.config, token=options["token"], timeout=timeout)
        self.stdout.write(json.dumps(replication_status(capability, source_events=count).to_json()))
