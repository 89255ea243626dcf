from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler_proxy.config import ConfigError, load_config
from strangler_proxy.contrib.django.discovery import Endpoint, endpoints, resolve_group, uncovered
from strangler_proxy.model import ProxyConfig


class Command(BaseCommand):
    help = (
        "discover: list the URLconf's endpoints as proxy routes (path pattern, methods, view, suggested group = "
        "the app label of the view's module, matched to a config group by name or its singular). Skipped: the "
        "admin, static files, and API schema/docs views (drf-spectacular, drf-yasg, DRF schemas). Regex (re_path) "
        "and custom-converter routes are printed with a note, to write by hand. Methods: a DRF viewset's actions, "
        "the handlers a class-based view implements (HEAD comes with GET), 'any' for function views. "
        "--check --config FILE: exit 1 listing the endpoints of the config's groups that no route of their group "
        "covers, 0 ('all covered') otherwise; 2 on a bad config."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["discover"])
        parser.add_argument("--config", type=Path, help="proxy config (YAML): resolves suggested groups")
        parser.add_argument("--format", choices=["yaml", "table"], default="table")
        parser.add_argument("--check", action="store_true", help="fail when a group's endpoint has no route")

    def handle(self, *args: Any, **options: Any) -> None:
        config = _load(options["config"])
        found = endpoints()
        groups = config.groups if config else {}
        if options["check"]:
            if config is None:
                raise CommandError("--check needs --config FILE", returncode=2)
            self._check(found, config)
        elif options["format"] == "yaml":
            self.stdout.write(render_yaml(found, groups))
        else:
            self.stdout.write(render_table(found, groups))

    def _check(self, found: list[Endpoint], config: ProxyConfig) -> None:
        missing = uncovered(found, config.groups)
        if not missing:
            checked = sorted(name for name in config.groups if any(resolve_group(e.app, [name]) for e in found))
            self.stdout.write(f"all covered (groups: {', '.join(checked) or 'none'})")
            return
        for endpoint, group in missing:
            self.stdout.write(f"uncovered: {_methods(endpoint)} {endpoint.path} (group {group}, {endpoint.view})")
        raise CommandError(f"{len(missing)} endpoint(s) not covered by a route of their group", returncode=1)


def _load(path: Path | None) -> ProxyConfig | None:
    if path is None:
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        raise CommandError(str(exc), returncode=2) from None


def _methods(endpoint: Endpoint) -> str:
    return ",".join(endpoint.methods) or "any"


def render_table(found: Sequence[Endpoint], groups: Iterable[str]) -> str:
    rows = [("PATH", "METHODS", "GROUP", "VIEW")]
    rows += [(e.path, _methods(e), resolve_group(e.app, groups) or "-", e.view) for e in found]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]) for row in rows
    ]
    notes = [f"note: {e.path}: {e.note}" for e in found if e.note]
    return "\n".join(lines + notes)


def render_yaml(found: Sequence[Endpoint], groups: Iterable[str]) -> str:
    """Route entries per suggested group, to paste under ``groups.<name>.routes``; others as comments."""
    by_group: dict[str, list[Endpoint]] = {}
    loose: list[Endpoint] = []
    for endpoint in found:
        group = resolve_group(endpoint.app, groups)
        if group is None or not endpoint.convertible:
            loose.append(endpoint)
        else:
            by_group.setdefault(group, []).append(endpoint)
    lines = ["# proxy routes by suggested group (manage.py proxy_routes discover --format yaml)"]
    for group, members in by_group.items():
        lines += [f"{group}:", "  routes:"]
        lines += [f"    - {_route_entry(endpoint)}  # {endpoint.view}" for endpoint in members]
    if loose:
        lines.append("# left out: no group for the view's app (none in the config, or not an installed app),")
        lines.append("# or a path that is not a proxy pattern:")
        lines += [f"#   - {_route_entry(e)}  # {e.view}{'; ' + e.note if e.note else ''}" for e in loose]
    return "\n".join(lines)


def _route_entry(endpoint: Endpoint) -> str:
    methods = f", methods: [{', '.join(endpoint.methods)}]" if endpoint.methods else ""
    return f"{{path: {json.dumps(endpoint.path)}{methods}}}"
