"""The inventory service's ORM repository and unit of work on a real database (SQLite here, PostgreSQL in the
PostgreSQL pass, where row locks and the version check are exercised by concurrent writers).

Each check runs inside the service's Django project (``inventory_repository_checks.py``), in its own process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ON_POSTGRES
from tests.e2e.inventory_service_support import InventoryService, service_database


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InventoryService]:
    workdir = tmp_path_factory.mktemp("inventory-repository")
    with service_database(workdir, postgres=ON_POSTGRES) as url:
        yield InventoryService.create(workdir, url)


def _check(service: InventoryService, name: str) -> None:
    code = f"from tests.integration.inventory_repository_checks import run; run({name!r})"
    result = service.run("shell", "-c", code, check=False)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stdout + result.stderr


def test_level_writes_check_the_version_they_read(service: InventoryService) -> None:
    _check(service, "level_writes_check_the_version_read")


def test_a_change_and_its_event_commit_together_or_not_at_all(service: InventoryService) -> None:
    _check(service, "a_change_and_its_event_commit_together_or_not_at_all")


def test_reservations_round_trip_with_their_lines(service: InventoryService) -> None:
    _check(service, "reservations_round_trip_with_their_lines")


def test_concurrent_reservations_never_oversell_nor_deadlock(service: InventoryService) -> None:
    _check(service, "concurrent_reservations_never_oversell_nor_deadlock")


def test_the_replica_keeps_the_newest_level_whatever_the_order(service: InventoryService) -> None:
    _check(service, "the_replica_keeps_the_newest_level_whatever_the_order")
