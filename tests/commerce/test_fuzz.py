"""Property-based fuzzing of the commerce endpoints from the OpenAPI schema: whatever is sent,
the answer is never a server error."""

from __future__ import annotations

import pytest
from tests.fuzzing import api_schema_of, fuzz_operations, operations_of

from rapport.commerce.services import invoice_create
from rapport.core.choices import TokenScope
from rapport.core.tokens import api_token_create

PATHS = (
    r"^/api/v1/(products|tax-rates|price-books|prices|exchange-rates|orders|shipments|invoices"
    r"|subscriptions|recurring-revenue)"
)


@pytest.fixture
def api_schema(db):
    with api_schema_of(PATHS) as schema:
        yield schema


@pytest.fixture
def token(make_order, manager, rep) -> str:
    # Real rows, so that small ids in generated paths sometimes hit a record.
    order = make_order()
    invoice_create(actor=rep, order=order, lines=[(order.lines.first().pk, 1)])
    _token, plain = api_token_create(actor=manager, name="fuzz", scope=TokenScope.READ_WRITE)
    return plain


def test_no_server_errors(api_schema, token: str) -> None:
    operations = operations_of(api_schema)
    assert len(operations) >= 25
    fuzz_operations(operations, token=token, max_examples=15)
