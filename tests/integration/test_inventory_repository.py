"""The inventory service's storage adapters and units of work on real stores, with the same checks for both:
the ORM on a real database (SQLite here, PostgreSQL in the PostgreSQL pass, where row locks and the version check
are exercised by concurrent writers) and DynamoDB on a moto server (conditional writes, one transaction per unit of
work; its own checks are in ``test_inventory_dynamodb.py``).

Each check runs inside the service's Django project (``inventory_repository_checks.py``), in its own process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ON_POSTGRES
from tests.e2e.inventory_service_support import InventoryService, service_database
from tests.integration.test_inventory_dynamodb import (  # noqa: F401  (dynamodb_endpoint: a fixture, used by name)
    dynamodb_endpoint,
    dynamodb_service,
    run_check,
)


@pytest.fixture(scope="module", params=["orm", "dynamodb"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InventoryService]:
    workdir = tmp_path_factory.mktemp(f"inventory-repository-{request.param}")
    with service_database(workdir, postgres=ON_POSTGRES) as url:
        if request.param == "orm":
            yield InventoryService.create(workdir, url)
        else:
            yield dynamodb_service(workdir, url, request.getfixturevalue("dynamodb_endpoint"))


def test_level_writes_check_the_version_they_read(service: InventoryService) -> None:
    run_check(service, "level_writes_check_the_version_read")


def test_a_change_and_its_event_commit_together_or_not_at_all(service: InventoryService) -> None:
    run_check(service, "a_change_and_its_event_commit_together_or_not_at_all")


def test_reservations_round_trip_with_their_lines(service: InventoryService) -> None:
    run_check(service, "reservations_round_trip_with_their_lines")


def test_concurrent_reservations_never_oversell_nor_deadlock(service: InventoryService) -> None:
    run_check(service, "concurrent_reservations_never_oversell_nor_deadlock")


def test_the_last_unit_sells_exactly_once(service: InventoryService) -> None:
    run_check(service, "the_last_unit_sells_exactly_once")


def test_the_snapshot_lists_what_is_stored(service: InventoryService) -> None:
    run_check(service, "the_snapshot_lists_what_is_stored")


def test_the_replica_keeps_the_newest_level_whatever_the_order(service: InventoryService) -> None:
    run_check(service, "the_replica_keeps_the_newest_level_whatever_the_order")
