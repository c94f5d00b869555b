"""Property-based fuzzing of the leads API from its OpenAPI schema: whatever is sent, never a 5xx."""

from __future__ import annotations

import pytest
from tests.fuzzing import api_schema_of, fuzz_operations, operations_of

from rapport.core.choices import TokenScope
from rapport.core.tokens import api_token_create
from rapport.sales.services_leads import lead_create, lead_status_set


@pytest.fixture
def api_schema(db):
    with api_schema_of(r"^/api/v1/leads") as schema:
        yield schema


@pytest.fixture
def token(manager, pipeline) -> str:
    for index in range(3):
        lead = lead_create(actor=manager, data={"last_name": f"Fuzz{index}", "email": f"f{index}@example.org"})
    lead_status_set(actor=manager, lead=lead, status="qualified", expected_version=None)
    _token, plain = api_token_create(actor=manager, name="fuzz", scope=TokenScope.READ_WRITE)
    return plain


def test_no_server_errors(api_schema, token: str) -> None:
    operations = operations_of(api_schema)
    assert len(operations) >= 20
    fuzz_operations(operations, token=token, max_examples=12)
