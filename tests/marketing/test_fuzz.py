"""Property-based fuzzing of the campaign endpoints from the OpenAPI schema: whatever is sent, the
answer is never a server error."""

from __future__ import annotations

import pytest
from tests.fuzzing import api_schema_of, fuzz_operations, operations_of

from rapport.core.choices import TokenScope
from rapport.core.tokens import api_token_create


@pytest.fixture
def api_schema(db):
    with api_schema_of(r"^/api/v1/campaign") as schema:
        yield schema


@pytest.fixture
def token(members, marketer) -> str:
    # Real rows (a campaign and three members), so that small ids in generated paths sometimes hit one.
    _token, plain = api_token_create(actor=marketer, name="fuzz", scope=TokenScope.READ_WRITE)
    return plain


def test_no_server_errors(api_schema, token: str) -> None:
    operations = operations_of(api_schema)
    assert len(operations) == 9
    fuzz_operations(operations, token=token, max_examples=25)
