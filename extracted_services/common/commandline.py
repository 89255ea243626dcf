"""``python -m extracted_services.<name> <command> [args]``: Django's manage.py, with that service's settings."""

from __future__ import annotations

import os
import sys


def run_manage(settings_module: str, argv: list[str] | None = None) -> None:
    # Set, not setdefault: naming the service on the command line is explicit, and a DJANGO_SETTINGS_MODULE
    # inherited from a shell or a test run (often the monolith's) must not win over it.
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from extracted_services.common.config import ConfigError

    args = list(sys.argv if argv is None else argv)
    program = f"python -m {settings_module.rsplit('.', 1)[0]}"
    args[0] = program
    try:
        execute_from_command_line(args)
    except (ConfigError, ImproperlyConfigured) as exc:  # the environment is wrong: say which setting, once
        sys.stderr.write(f"{program}: {exc}\n")
        raise SystemExit(2) from None
