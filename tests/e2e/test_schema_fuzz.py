"""Property-based fuzzing of the live monolith against its own OpenAPI schema (schemathesis).

Every operation in ``/api/schema/`` is called as staff (a token with every shop permission, so requests get past
401/403 into the business logic) with generated valid and invalid inputs. Each response must not be a 5xx and
must conform to the schema: a documented status code, the documented content type and a body matching the
documented schema. One subtest per operation, named ``[METHOD /path]``; a failure prints the offending request
as a reproducing ``curl`` command.

Bounded and deterministic: a fixed seed, ``MAX_EXAMPLES`` generated cases per operation plus schemathesis's
boundary (coverage) cases, no example database; requests only go to the monolith on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.processes import LiveMonolith

pytestmark = pytest.mark.e2e

SEED = 20240601
MAX_EXAMPLES = 30
REQUEST_TIMEOUT_S = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(live_monolith: LiveMonolith) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {live_monolith.token('staff')}"},
            "request-timeout": REQUEST_TIMEOUT_S,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
            "checks": {
                "enabled": False,
                **{check.__name__: {"enabled": True} for check in CHECKS},
            },
        }
    )
    return schemathesis.openapi.from_url(
        f"{live_monolith.base_url}/api/schema/", config=config, timeout=REQUEST_TIMEOUT_S
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_response_is_documented_and_never_a_server_error(case: Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT_S)
