"""Property-based fuzzing of the contact and account endpoints from the OpenAPI schema.

Schemathesis generates valid and invalid requests for every operation; whatever it sends, the
answer must never be a server error. Runs in the test transaction, through the real WSGI app.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from rapport.core.choices import TokenScope
from rapport.core.tokens import api_token_create
from rapport.parties.services import account_create, contact_create


@pytest.fixture
def api_schema(db):
    from rapport.config.wsgi import application

    # Calling the WSGI app directly would close the connection at the end of each request
    # (and with it the test transaction); Django's own test client suspends this the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    yield schema.include(path_regex=r"^/api/v1/(contacts|accounts|search|interactions|notes|tasks)")
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(rep) -> str:
    # Some real rows so that ids in generated paths sometimes hit a record.
    account = account_create(actor=rep, data={"name": "Fuzz Inc"})
    for index in range(3):
        contact_create(actor=rep, data={"last_name": f"Fuzz{index}", "account_id": account.pk})
    _token, plain = api_token_create(actor=rep, name="fuzz", scope=TokenScope.READ_WRITE)
    return plain


def test_no_server_errors(api_schema, token: str) -> None:
    # given: every operation of the contacts, accounts and search API
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    headers = {"Authorization": f"Bearer {token}"}
    for operation in operations:
        # when: generated requests (valid and invalid) are sent
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:
            # then: none of them is answered with a 5xx
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
