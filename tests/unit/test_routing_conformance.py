"""Every labelled row of the shared EventBridge conformance vectors (see shared/conformance/eventbridge/README.md).

The labels come from running aws/event-ruler itself, so a failure here means the matcher disagrees with EventBridge.
The vectors live beside the repository (``../shared``, as in CI); ``tests/data/eventbridge`` holds a copy (with its
README and licence notice) for clones made without ``shared/``, and a test fails if the two ever differ.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from events.routing import InvalidPattern, compile_pattern, matches, validate

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "eventbridge" / "vectors.jsonl"
VENDORED = Path(__file__).resolve().parents[1] / "data" / "eventbridge" / "vectors.jsonl"
VECTORS = SHARED if SHARED.is_file() else VENDORED
EXPECTED_COUNTS = {"true": 407, "false": 475, "invalid": 176}


def _load_rows() -> list[dict[str, Any]]:
    if not VECTORS.is_file():
        return []
    with VECTORS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


ROWS = _load_rows()


def _params() -> list[Any]:
    if not ROWS:
        # One failing case instead of an empty (silently skipped) parametrization.
        return [pytest.param(None, id="vectors-missing")]
    return [pytest.param(row, id=row["name"]) for row in ROWS]


def _require_vectors() -> None:
    if not ROWS:
        pytest.fail(
            f"EventBridge conformance vectors not found at {VECTORS}: clone the repository next to a copy of shared/"
        )


def test_vector_file_is_complete() -> None:
    _require_vectors()
    labels = Counter(str(row["expected"]).lower() for row in ROWS)
    assert dict(labels) == EXPECTED_COUNTS
    assert len({row["name"] for row in ROWS}) == len(ROWS), "row names must be unique test ids"


@pytest.mark.parametrize("row", _params())
def test_vector(row: dict[str, Any] | None) -> None:
    _require_vectors()
    assert row is not None
    pattern, event, expected = row["pattern"], row["event"], row["expected"]
    if expected == "invalid":
        with pytest.raises(InvalidPattern):
            validate(pattern)
        with pytest.raises(InvalidPattern):
            matches(pattern, event)
    else:
        assert matches(pattern, event) is expected
        assert compile_pattern(pattern).matches(event) is expected


@pytest.mark.skipif(not SHARED.is_file(), reason="no ../shared beside this clone: only the vendored copy exists")
def test_vendored_copy_matches_the_shared_vectors() -> None:
    assert VENDORED.read_bytes() == SHARED.read_bytes(), "refresh tests/data/eventbridge from ../shared"
