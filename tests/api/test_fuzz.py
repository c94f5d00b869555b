"""Property-based fuzzing of the contact and account endpoints from the OpenAPI schema.

Schemathesis generates valid and invalid requests for every operation; whatever it sends, the
answer must never be a server error. Runs in the test transaction, through the real WSGI app.
"""

from __future__ import annotations

import pytest
from tests.fuzzing import api_schema_of, fuzz_operations, operations_of

from rapport.core.choices import TokenScope
from rapport.core.tokens import api_token_create
from rapport.parties.services import account_create, contact_create


@pytest.fixture
def api_schema(db):
    with api_schema_of(r"^/api/v1/(contacts|accounts|search|interactions|notes|tasks)") as schema:
        yield schema


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
    operations = operations_of(api_schema)
    assert len(operations) >= 10
    fuzz_operations(operations, token=token, max_examples=15)
