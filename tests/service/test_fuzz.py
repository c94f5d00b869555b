"""Property-based fuzzing of the cases endpoints from the OpenAPI schema: whatever is sent, the
answer is never a server error."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from rapport.core.choices import TokenScope
from rapport.core.tokens import api_token_create


@pytest.fixture
def api_schema(db):
    from rapport.config.wsgi import application

    # As in tests/api/test_fuzz.py: keep the test transaction open across WSGI requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    yield schema.include(path_regex=r"^/api/v1/cases")
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(case, manager) -> str:
    # Real rows (an account, a contact, a case), so that small ids in generated bodies sometimes hit one.
    _token, plain = api_token_create(actor=manager, name="fuzz", scope=TokenScope.READ_WRITE)
    return plain


def test_no_server_errors(api_schema, token: str) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 4
    headers = {"Authorization": f"Bearer {token}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
