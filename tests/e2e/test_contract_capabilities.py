"""The contract suites, each run with the same assertions against the monolith and the capability's service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.contract import inventory, payments, shipments
from tests.e2e.contract.target import Target
from tests.e2e.processes import start_monolith

pytestmark = pytest.mark.e2e

Case = Callable[[Target], None]


@pytest.fixture(scope="module")
def monolith_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    server = start_monolith(Path(tmp_path_factory.mktemp("contract-monolith")))
    try:
        yield Target("monolith", server.base_url, {u: server.token(u) for u in ("alice", "bob", "staff")})
    finally:
        server.stop()


@pytest.mark.parametrize("case", inventory.CASES + payments.CASES + shipments.CASES, ids=lambda c: c.__name__)
def test_monolith(monolith_target: Target, case: Case) -> None:
    case(monolith_target)
