"""Property-based fuzzing of the identity endpoints: whatever is sent, never a server error."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from rapport.core.choices import TokenScope
from rapport.core.tokens import api_token_create
from rapport.parties.choices import DuplicateSource
from rapport.parties.duplicates import PairProposal, duplicate_pairs_record
from rapport.parties.merge import contact_merge
from rapport.parties.services import contact_create


@pytest.fixture
def api_schema(db):
    from rapport.config.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    yield schema.include(path_regex=r"^/api/v1/(duplicates|merges|contacts/\{contact_id\}/merge)")
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(rep) -> str:
    contacts = [contact_create(actor=rep, data={"first_name": "Fuzz", "last_name": f"F{i}"}) for i in range(6)]
    duplicate_pairs_record(
        pairs=[PairProposal(contacts[0].pk, contacts[1].pk, 0.9), PairProposal(contacts[2].pk, contacts[3].pk, 0.5)],
        source=DuplicateSource.BATCH,
    )
    contact_merge(actor=rep, survivor=contacts[4], duplicate=contacts[5])
    _token, plain = api_token_create(actor=rep, name="fuzz", scope=TokenScope.READ_WRITE)
    return plain


def test_no_server_errors(api_schema, token: str) -> None:
    # given: every identity operation
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 7
    headers = {"Authorization": f"Bearer {token}"}
    for operation in operations:
        # when: generated requests (valid and invalid) are sent
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:
            # then: none of them is answered with a 5xx
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
