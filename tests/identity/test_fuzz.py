"""Property-based fuzzing of the identity endpoints: whatever is sent, never a server error."""

from __future__ import annotations

import pytest
from tests.fuzzing import api_schema_of, fuzz_operations, operations_of

from rapport.core.choices import TokenScope
from rapport.core.tokens import api_token_create
from rapport.parties.choices import DuplicateSource
from rapport.parties.duplicates import PairProposal, duplicate_pairs_record
from rapport.parties.merge import contact_merge
from rapport.parties.services import contact_create


@pytest.fixture
def api_schema(db):
    with api_schema_of(r"^/api/v1/(duplicates|merges|contacts/\{contact_id\}/merge)") as schema:
        yield schema


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
    operations = operations_of(api_schema)
    assert len(operations) == 7
    fuzz_operations(operations, token=token, max_examples=25)
