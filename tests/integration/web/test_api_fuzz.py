"""Schemathesis over the whole API: whatever a client sends, the answer is never a 5xx.

Every documented operation gets generated requests (valid and invalid) on both backends; the
answers must not be server errors, must use documented status codes and match their schemas,
and invalid data must be rejected.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from jukinet.services.context import ServiceContext
from jukinet.web.app import create_app
from tests.support.factories import (
    api_headers,
    make_actor,
    move_in_household,
    person,
    with_pool,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def test_api_never_answers_5xx(node: ServiceContext) -> None:
    clerk = make_actor(node, username="fuzzclerk")
    with_pool(node, 200)
    move_in_household(node, clerk, person())
    app = create_app(node)
    with TestClient(app) as client:
        headers = api_headers(client, "fuzzclerk")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
