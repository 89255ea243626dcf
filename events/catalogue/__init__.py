"""Every event type with a JSON Schema per version, and validation against them.

::

    catalogue = Catalogue.default()
    catalogue.validate("order.placed", 1, data)      # raises SchemaViolation naming the first problem
    catalogue.uri("order.placed", 1)                  # "urn:strangler:event:order.placed:1" (the dataschema)

Schemas are files named ``<type>.v<version>.json``. A released version never changes: ``schemas.lock.json``
records each file's digest, ``python -m events.catalogue lock`` adds new versions and refuses to alter released
ones, and the test suite fails when a locked file changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
LOCK_FILE = Path(__file__).resolve().parent / "schemas.lock.json"
_FILE = re.compile(r"^(?P<type>[a-z][a-z0-9_.]*)\.v(?P<version>[1-9][0-9]*)\.json$")
_URI = re.compile(r"^urn:strangler:event:(?P<type>[a-z][a-z0-9_.]*):(?P<version>[1-9][0-9]*)$")

__all__ = ["Catalogue", "SchemaViolation", "UnknownEventType", "file_digest", "parse_uri"]


class UnknownEventType(LookupError):
    """No schema for this event type and version."""


class SchemaViolation(ValueError):
    """Event data does not match its schema; the message names the offending path."""


def file_digest(path: Path) -> str:
    canonical = json.dumps(json.loads(path.read_text()), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_uri(uri: str) -> tuple[str, int]:
    match = _URI.match(uri)
    if match is None:
        raise UnknownEventType(f"dataschema {uri!r} is not a catalogue URI")
    return match["type"], int(match["version"])


@dataclass(frozen=True)
class _Entry:
    path: Path
    validator: Draft202012Validator


class Catalogue:
    def __init__(self, directories: Iterable[Path]) -> None:
        self._entries: dict[tuple[str, int], _Entry] = {}
        for directory in directories:
            for path in sorted(Path(directory).glob("*.json")):
                match = _FILE.match(path.name)
                if match is None:
                    raise ValueError(f"{path}: schema files are named <type>.v<version>.json")
                schema = json.loads(path.read_text())
                Draft202012Validator.check_schema(schema)
                validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
                self._entries[(match["type"], int(match["version"]))] = _Entry(path, validator)

    @classmethod
    @cache
    def default(cls) -> Catalogue:
        return cls([SCHEMA_DIR])

    def types(self) -> list[str]:
        return sorted({t for t, _ in self._entries})

    def versions(self, event_type: str) -> list[int]:
        return sorted(v for t, v in self._entries if t == event_type)

    def latest(self, event_type: str) -> int:
        versions = self.versions(event_type)
        if not versions:
            raise UnknownEventType(f"no schema for event type {event_type!r}")
        return versions[-1]

    def uri(self, event_type: str, version: int) -> str:
        self._entry(event_type, version)
        return f"urn:strangler:event:{event_type}:{version}"

    def paths(self) -> dict[tuple[str, int], Path]:
        return {key: entry.path for key, entry in self._entries.items()}

    def validate(self, event_type: str, version: int, data: Any) -> None:
        error = best_match(self._entry(event_type, version).validator.iter_errors(data))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise SchemaViolation(f"{event_type} v{version} at {where}: {error.message}")

    def _entry(self, event_type: str, version: int) -> _Entry:
        try:
            return self._entries[(event_type, version)]
        except KeyError:
            raise UnknownEventType(f"no schema for {event_type} v{version}") from None
