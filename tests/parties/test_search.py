"""Search by name (with typos), email and phone in any format, narrowed to what the actor may read."""

from __future__ import annotations

import pytest

from rapport.parties.selectors import search_all
from rapport.parties.services import account_create, contact_create


@pytest.fixture
def people(rep, other_rep):
    acme = account_create(actor=rep, data={"name": "Acme Logistics", "website": "https://www.acme-logistics.example"})
    return {
        "margaret": contact_create(
            actor=rep,
            data={
                "first_name": "Margaret",
                "last_name": "Thornton",
                "emails": ["m.thornton@acme.example"],
                "phones": ["+1 415 555 0134"],
                "account_id": acme.pk,
            },
        ),
        "jonathan": contact_create(actor=rep, data={"first_name": "Jonathan", "last_name": "Smith"}),
        "hidden": contact_create(actor=other_rep, data={"first_name": "Margaret", "last_name": "Thorne"}),
        "acme": acme,
    }


def _names(found) -> list[str]:
    return [c.full_name for c in found["contacts"]]


@pytest.mark.parametrize("query", ["Margaret Thornton", "Margret Thornton", "margaret thorntn", "Thornton"])
def test_names_with_typos_are_found(rep, people, query: str) -> None:
    assert _names(search_all(actor=rep, query=query))[:1] == ["Margaret Thornton"]


@pytest.mark.parametrize("query", ["+14155550134", "(415) 555-0134", "415.555.0134", "4155550134"])
def test_phone_in_any_format(rep, people, query: str) -> None:
    assert _names(search_all(actor=rep, query=query)) == ["Margaret Thornton"]


def test_email_any_case_and_company(rep, people) -> None:
    assert _names(search_all(actor=rep, query="M.Thornton@ACME.example")) == ["Margaret Thornton"]
    assert "Margaret Thornton" in _names(search_all(actor=rep, query="acme logistics"))
    assert [a.name for a in search_all(actor=rep, query="Acme Logistcs")["accounts"]] == ["Acme Logistics"]
    assert [a.name for a in search_all(actor=rep, query="acme-logistics.example")["accounts"]] == ["Acme Logistics"]


def test_other_teams_records_never_appear(rep, other_rep, people) -> None:
    assert "Margaret Thorne" not in _names(search_all(actor=rep, query="Margaret Thorne"))
    assert _names(search_all(actor=other_rep, query="Margaret Thorne")) == ["Margaret Thorne"]


def test_renaming_the_company_reindexes_its_contacts(rep, people) -> None:
    from rapport.parties.services import account_update

    account_update(actor=rep, account=people["acme"], data={"name": "Zenith Freight"}, expected_version=1)
    assert _names(search_all(actor=rep, query="Zenith Freight")) == ["Margaret Thornton"]


def test_empty_and_junk_queries_return_nothing(rep, people) -> None:
    assert search_all(actor=rep, query="   ") == {"contacts": [], "accounts": []}
    assert _names(search_all(actor=rep, query="'\"%_*;--")) == []
