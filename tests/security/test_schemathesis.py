"""Schemathesis: generated requests against every operation of /api/v1/openapi.json.

At least 1,000 cases in all, as an admin and as an attendee; no answer may be a
5xx and every answer must match the document (status, headers, body schema).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.security.conftest import bearer

CASES_PER_OPERATION_AND_CALLER = 40
MINIMUM_CASES = 1000
CHECKS = [not_a_server_error, response_schema_conformance]


def _run(operation, headers: dict[str, str], counter: list[int]) -> None:
    @settings(
        max_examples=CASES_PER_OPERATION_AND_CALLER,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def generated(case):
        counter[0] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    generated()


@pytest.mark.slow
def test_generated_api_requests_get_no_server_error_and_match_the_document(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the document lists no operations"
    counter = [0]
    for token in (world.admin_token, world.owner_token):
        for operation in operations:
            _run(operation, bearer(token), counter)
    print(f"schemathesis: {counter[0]} generated cases over {len(operations)} operations")
    assert counter[0] >= MINIMUM_CASES, f"only {counter[0]} generated cases"
