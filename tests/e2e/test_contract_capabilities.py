"""The contract suites, each run with the same assertions against the monolith and against its service.

One monolith (demo seed) and the three services run as real processes. The inventory service is backfilled from
the monolith before any case writes, so both start from the same stock; payment and shipment cases create the
records they need. Each side keeps its own data afterwards (no relay runs here), so a case's writes on one target
never show on the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.contract import inventory, payments, shipments
from tests.e2e.contract.target import Target
from tests.e2e.processes import start_monolith
from tests.e2e.service_processes import LiveService, start_service

pytestmark = pytest.mark.e2e

Case = Callable[[Target], None]
USERS = ("alice", "bob", "staff")
SUITES = {"inventory": inventory.CASES, "payment": payments.CASES, "shipment": shipments.CASES}


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    monolith = start_monolith(Path(tmp_path_factory.mktemp("contract-monolith")))
    services: list[LiveService] = []
    try:
        tokens = {user: monolith.token(user) for user in USERS}
        for name in SUITES:
            services.append(start_service(name, Path(tmp_path_factory.mktemp(f"contract-{name}")), monolith))
        services[0].manage("backfill", "--token", tokens["staff"], "--no-progress")
        found = {"monolith": Target("monolith", monolith.base_url, tokens)}
        found.update({s.name: Target(f"{s.name}-service", s.base_url, tokens) for s in services})
        yield found
    finally:
        for service in services:
            service.stop()
        monolith.stop()


CASES = [(name, side, case) for name, cases in SUITES.items() for side in ("monolith", name) for case in cases]


@pytest.mark.parametrize(
    ("capability", "side", "case"), CASES, ids=[f"{c}-{'monolith' if s == 'monolith' else 'service'}-{f.__name__}"
                                                for c, s, f in CASES],
)  # fmt: skip
def test_contract(targets: dict[str, Target], capability: str, side: str, case: Case) -> None:
    case(targets[side])
