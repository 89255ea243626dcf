"""The inventory service on DynamoDB (``INVENTORY_REPOSITORY=dynamodb``) against a moto server on loopback: the last
unit sold once among racing processes, a reservation and its event committed together or not at all, stock never
below zero, the outbox drained once per event even by concurrent drains, dry runs that write nothing.

The checks run inside the service's own project (``inventory_repository_checks.py``), each in its own process.

The moto server here serialises requests. Real DynamoDB isolates concurrent ``TransactWriteItems`` (they are
serializable); moto's threaded server does not (its transaction checks then applies, and rolls back by restoring a
copy of the whole table that may predate another transaction's commit), so racing writers against a plain moto
server would test moto's races, not the adapter's conditions.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from monolith.api.auth import issue_access_token
from tests.conftest import ON_POSTGRES
from tests.e2e.inventory_service_support import InventoryService, service_database
from tests.e2e.processes import ROOT, free_port
from tests.services import IN_CI

_SERIALISED_MOTO = """
import sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

app, lock = DomainDispatcherApplication(create_backend_app), threading.Lock()

def one_at_a_time(environ, start_response):
    with lock:
        return list(app(environ, start_response))

run_simple("127.0.0.1", int(sys.argv[1]), one_at_a_time, threaded=True, request_handler=MotoRequestHandler)
"""
_AWS_ENV_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_REGION")


def _absent(message: str) -> None:
    if IN_CI:
        pytest.fail(message + " (required under CI=true)", pytrace=False)
    pytest.skip(message)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serialised_moto_server(log_dir: Path, deadline_s: float = 30.0) -> Iterator[str]:
    """moto's server app on a free loopback port, one request at a time; yields its URL, stops it afterwards."""
    port = free_port()
    url, log_path = f"http://127.0.0.1:{port}", log_dir / f"moto-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERIALISED_MOTO, str(port)], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + deadline_s
        while not _answers(url):
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto server not answering on {url} after {deadline_s}s")
            time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def dynamodb_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("moto") is None:
        _absent("moto is not installed (dev dependency moto[server]): the DynamoDB adapter is tested on its server")
    with serialised_moto_server(tmp_path_factory.mktemp("dynamodb-moto")) as url:
        yield url


def dynamodb_service(workdir: Path, database_url: str, endpoint: str) -> InventoryService:
    """An inventory service on DynamoDB at ``endpoint``, with tables of its own (a fresh prefix), created."""
    service = InventoryService.create(
        workdir, database_url, INVENTORY_REPOSITORY="dynamodb", INVENTORY_DYNAMODB_ENDPOINT_URL=endpoint,
        INVENTORY_DYNAMODB_TABLE_PREFIX=f"t{uuid.uuid4().hex[:12]}-", AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(workdir / "aws-config"), AWS_SHARED_CREDENTIALS_FILE=str(workdir / "aws-credentials"),
    )  # fmt: skip
    for name in _AWS_ENV_CLEARED:  # a developer's own AWS setup is never read
        service.env.pop(name, None)
    created = service.run("dynamodb_tables", "create").stdout.split()
    assert created[::2] == ["created"] * 5, created
    return service


def run_check(service: InventoryService, name: str, env: dict[str, str] | None = None) -> str:
    code = f"from tests.integration.inventory_repository_checks import run; run({name!r})"
    result = service.run("shell", "-c", code, check=False, env=env)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stdout + result.stderr
    return result.stdout


def _together(service: InventoryService, workdir: Path, name: str, envs: list[dict[str, str]]) -> list[Any]:
    """Run check ``name`` in one process per env, released at the same moment once all are ready; their JSON."""
    go = workdir / f"go-{uuid.uuid4().hex}"
    ready = [workdir / f"ready-{uuid.uuid4().hex}" for _ in envs]
    code = f"from tests.integration.inventory_repository_checks import run; run({name!r})"
    processes = [
        subprocess.Popen(
            service.argv("shell", "-c", code),
            env={**service.env, **env, "READY_FILE": str(r), "GO_FILE": str(go)},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for env, r in zip(envs, ready, strict=True)
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(r.exists() for r in ready):
            exited = [p for p in processes if p.poll() is not None]
            assert not exited, exited[0].communicate()
            assert time.monotonic() < deadline, "the processes never got ready"
            time.sleep(0.05)
        go.touch()
        outputs = [p.communicate(timeout=120) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in processes), outputs
    return [json.loads(out.strip().splitlines()[-2]) for out, _ in outputs]  # the line before "ok"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inventory-dynamodb")


@pytest.fixture(scope="module")
def service(workdir: Path, dynamodb_endpoint: str) -> Iterator[InventoryService]:
    with service_database(workdir, postgres=ON_POSTGRES) as url:
        yield dynamodb_service(workdir, url, dynamodb_endpoint)


def test_creating_the_tables_again_changes_nothing(service: InventoryService) -> None:
    again = service.run("dynamodb_tables", "create").stdout.split()
    assert again[::2] == ["exists"] * 5 and len(set(again[1::2])) == 5
    status = service.run("dynamodb_tables", "status").stdout.split()
    assert status == again


def test_the_last_unit_sells_exactly_once_among_ten_racing_processes(service: InventoryService, workdir: Path) -> None:
    run_check(service, "one_unit_in_stock")
    outcomes = _together(
        service, workdir, "reserve_the_last_unit_when_told", [{"REFERENCE": f"proc-{n}"} for n in range(10)]
    )
    assert sorted(next(iter(o)) for o in outcomes) == ["held"] + ["refused"] * 9, outcomes
    assert {o["refused"] for o in outcomes if "refused" in o} == {"insufficient_stock"}
    run_check(service, "the_last_unit_was_sold_once")


def test_a_reservation_and_its_event_commit_together_or_not_at_all(service: InventoryService) -> None:
    run_check(service, "a_reservation_and_its_event_commit_together_or_not_at_all")


def test_dynamodb_refuses_stock_below_zero_whatever_the_caller_computed(service: InventoryService) -> None:
    run_check(service, "dynamodb_refuses_stock_below_zero_whatever_the_caller_computed")


def test_two_drains_at_once_publish_each_event_once_in_order(service: InventoryService, workdir: Path) -> None:
    run_check(service, "prepare_a_drain_race")
    assert service.run("dynamodb_outbox", "pending").stdout.strip() == "13"  # 6 + 5 adjustments, reserve, release
    reports = _together(service, workdir, "drain_when_told", [{}, {}])
    assert sum(r["moved"] for r in reports) == 13 and not any(r["failed"] for r in reports), reports
    run_check(service, "the_drain_race_published_each_event_once_in_order")
    assert service.run("dynamodb_outbox", "pending").stdout.strip() == "0"
    assert service.run("dynamodb_outbox", "drain", "--once").stdout.strip() == (
        "moved 0, already moved 0, waiting 0, failed 0"
    )


def test_a_running_drain_moves_new_events_and_stops_on_sigterm(service: InventoryService) -> None:
    service.run("dynamodb_outbox", "drain", "--once")  # what earlier tests left
    drain = subprocess.Popen(
        service.argv("dynamodb_outbox", "drain", "--interval", "0.1"), env=service.env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        run_check(service, "an_event_waits_in_the_outbox")
        deadline = time.monotonic() + 60
        while service.run("dynamodb_outbox", "pending").stdout.strip() != "0":
            assert drain.poll() is None, drain.communicate()
            assert time.monotonic() < deadline, "the running drain never emptied the outbox"
            time.sleep(0.2)
        drain.send_signal(signal.SIGTERM)
        out, err = drain.communicate(timeout=30)
    finally:
        if drain.poll() is None:
            drain.kill()
    assert drain.returncode == 0, out + err
    assert "moved 1, already moved 0, waiting 0, failed 0" in out.splitlines()


def test_an_event_whose_item_comes_back_is_not_published_twice(service: InventoryService) -> None:
    run_check(service, "the_drain_moves_an_event_once_even_if_its_item_comes_back")


@pytest.mark.django_db
def test_a_dry_run_writes_nothing_and_answers_as_a_real_run(service: InventoryService, staff: Any) -> None:
    run_check(service, "a_dry_run_writes_nothing_and_answers_as_a_real_run", {"STAFF_TOKEN": issue_access_token(staff)})


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("check",), {"INVENTORY_DYNAMODB_TABLE_PREFIX": "no spaces"}, "INVENTORY_DYNAMODB_TABLE_PREFIX must be"),
        (("check",), {"INVENTORY_DYNAMODB_ENDPOINT_URL": "localhost:8000"}, "INVENTORY_DYNAMODB_ENDPOINT_URL must"),
        (("dynamodb_outbox", "drain", "--interval", "soon"), {}, "--interval must be from 0.05 to 3600 seconds"),
    ],
)
def test_a_bad_dynamodb_setting_is_one_line_naming_it(
    service: InventoryService, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    result = service.run(*args, env=env, check=False)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert message in line, line
