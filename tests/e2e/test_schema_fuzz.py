"""Property-based fuzzing of the live monolith against its own OpenAPI schema, with schemathesis.

Every operation of ``/api/schema/`` is called as staff (a token with every shop permission, so requests get past
401/403 into the business logic) with generated valid and invalid inputs, then in stateful sequences that feed
one response's ids into the next request (place an order, then cancel it; authorise a payment, then capture it).
Every response must not be a 5xx and must conform to the schema: a documented status code, the documented
content type and a body matching the documented schema.

Schemathesis runs as its CLI (``schemathesis run``): one process, its own report with a ``curl`` command to
reproduce each failure. Bounded and repeatable: ``MAX_EXAMPLES`` cases per operation, derandomized (no seed to vary),
no example database, a subprocess timeout; requests only go to the monolith on 127.0.0.1. Dictionaries of the demo
shop's SKUs, warehouses, users and test card tokens make a share of the generated requests name things that exist.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from monolith.core import demo
from tests.e2e.processes import VENV_BIN, LiveMonolith

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 50
STATEFUL_MAX_STEPS = 20
REQUEST_TIMEOUT_S = 10
RUN_TIMEOUT_S = 240
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
CARD_TOKENS = ("tok_visa", "tok_mastercard", "tok_chargeDeclined", "tok_insufficientFunds", "tok_processingError")


def _toml(value: object) -> str:
    return json.dumps(value)  # a JSON string, number or array of them is valid TOML


def _config() -> str:
    dictionaries = {
        "skus": [sku for sku, _, _ in demo.PRODUCTS],
        "warehouses": [code for code, _, _ in demo.WAREHOUSES],
        "cards": list(CARD_TOKENS),
        "currencies": [demo.CURRENCY],
        "quantities": [1, 2, 3],
        "usernames": [username for username, _, _, _ in demo.USERS],
        "passwords": [password for _, password, _, _ in demo.USERS],
    }
    bindings = {
        "path.sku": "skus",
        "body.sku": "skus",
        "body.lines[*].sku": "skus",
        "body.lines[*].quantity": "quantities",
        "body.warehouse": "warehouses",
        "body.card_token": "cards",
        "body.payment.card_token": "cards",
        "body.currency": "currencies",
        "body.username": "usernames",
        "body.password": "passwords",
    }
    lines = [f"[phases.stateful]\nmax-steps = {STATEFUL_MAX_STEPS}\n"]
    lines += [f"[dictionaries.{name}]\nvalues = {_toml(values)}\n" for name, values in dictionaries.items()]
    lines.append("[parameters]")
    lines += [f"{_toml(key)} = {{ dictionary = {_toml(name)}, probability = 0.6 }}" for key, name in bindings.items()]
    return "\n".join(lines) + "\n"


def _failures(output: str) -> str:
    """The report from its FAILURES section on (each failure with a curl command), else the whole output."""
    start = output.find("= FAILURES =")
    return output[output.rfind("\n", 0, start) + 1 :] if start != -1 else output


def test_every_response_is_documented_and_never_a_server_error(live_monolith: LiveMonolith, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config())
    command = [
        str(VENV_BIN / "schemathesis"),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{live_monolith.base_url}/api/schema/",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        ",".join(PHASES),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--header",
        f"Authorization: Bearer {live_monolith.token('staff')}",
        "--request-timeout",
        str(REQUEST_TIMEOUT_S),
        "--workers",
        "1",
    ]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "COLUMNS": "120"}
    # cwd: schemathesis and Hypothesis keep their caches in the working directory
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)

    assert result.returncode == 0, (
        f"schemathesis found responses that break the schema (exit {result.returncode}):\n"
        + _failures(result.stdout)
        + result.stderr
    )
