"""The rules file a command works with: ``--rules`` or ``EVENTS['RULES_FILE']``, errors as exit status 2."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from events.conf import get_config
from events.router import Router, RulesError, load_rules


def load_router(rules: Path | None) -> tuple[Path, Router]:
    path = rules or get_config().rules_file
    if path is None:
        raise CommandError("no rules file: pass --rules or set EVENTS['RULES_FILE']", returncode=2)
    try:
        return path, Router(load_rules(path))
    except RulesError as exc:
        raise CommandError(str(exc), returncode=2) from None
