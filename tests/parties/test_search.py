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


# --- typo tolerance that scales with the query, on both databases ----------------------------


@pytest.fixture
def megans(rep):
    return {
        name: contact_create(actor=rep, data={"first_name": name.split()[0], "last_name": name.split()[1]})
        for name in ("Megan Johnston", "Megan Middleton", "Meghan Johnstone")
    }


def test_a_long_query_with_one_typo_finds_the_name_but_not_loose_look_alikes(rep, megans) -> None:
    # "Megan Johsnton": two letters swapped; "Megan Middleton" only shares the first name
    assert _names(search_all(actor=rep, query="Megan Johsnton")) == ["Megan Johnston"]
    assert _names(search_all(actor=rep, query="megan johnston"))[:1] == ["Megan Johnston"]
    assert _names(search_all(actor=rep, query="Megan Middletno")) == ["Megan Middleton"]


def test_short_queries_keep_the_low_bar(rep, make_user) -> None:
    contact_create(actor=rep, data={"first_name": "John", "last_name": "Smith"})
    assert _names(search_all(actor=rep, query="jonh smiht")) == ["John Smith"]  # two typos in nine letters


def test_words_shorter_than_a_trigram_match_by_prefix(rep, people) -> None:
    assert _names(search_all(actor=rep, query="ma th")) == ["Margaret Thornton"]
    assert _names(search_all(actor=rep, query="jo")) == ["Jonathan Smith"]


def test_like_wildcards_in_the_query_are_literal(rep) -> None:
    contact_create(actor=rep, data={"first_name": "Percy", "last_name": "Underhill"})
    contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Ward", "emails": ["p_r@example.com"]})
    assert _names(search_all(actor=rep, query="p_r")) == ["Ann Ward"]
    assert _names(search_all(actor=rep, query="r_y")) == []  # "%r_y%" unescaped would match "Percy"


@pytest.mark.parametrize(
    ("query", "threshold"),
    [("thornton", 0.35), ("jonh smiht", 0.35), ("megan johsnton", 0.45), ("margret thornton", 0.5),
     ("montgomerywood", 0.45), ("lindqvists", 0.4)],
)
def test_the_similarity_bar_rises_with_the_query_length(query: str, threshold: float) -> None:
    from rapport.parties.search import similarity_threshold

    assert similarity_threshold(query) == threshold


PAIRS = [  # (query, text, pg_trgm's word_similarity)
    ("megan johsnton", "megan johnston mjohnston@hudsonproductions.com 12035355202 hudson productions", 0.6),
    ("jonh smiht", "john smith", 0.35714287),
    ("margaret thorntn", "margaret thornton m.thornton@acme.example 14155550134 acme logistics", 0.88235295),
    ("thornton margaret", "margaret thornton m.thornton@acme.example 14155550134 acme logistics", 1.0),
    ("megan johsnton", "megan middleton", 0.4),
    ("zoë o'brien", "zoe o'brien zoë@example.com", 1.0),
    ("x", "margaret", 0.0),
    ("", "margaret", 0.0),
]


def test_python_word_similarity_is_pg_trgms(db) -> None:
    """SQLite filters and ranks with a port of pg_trgm's ``word_similarity``: same numbers."""
    from django.db import connection

    from rapport.parties.search import word_similarity

    expected = [sml for _q, _t, sml in PAIRS]
    assert [word_similarity(q, t) for q, t, _sml in PAIRS] == pytest.approx(expected, abs=1e-6)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            found = []
            for query, text, _sml in PAIRS:
                cursor.execute("SELECT word_similarity(%s, %s)", [query, text])
                found.append(cursor.fetchone()[0])
        assert found == pytest.approx(expected, abs=1e-6)


@pytest.mark.django_db(transaction=True)
def test_the_session_threshold_follows_the_query_after_a_rollback(rep, people) -> None:
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("pg_trgm setting")

    def setting() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('pg_trgm.word_similarity_threshold')::float")
            return cursor.fetchone()[0]

    assert _names(search_all(actor=rep, query="Margret Thornton")) == ["Margaret Thornton"]
    assert setting() == 0.5
    with pytest.raises(RuntimeError), transaction.atomic():
        search_all(actor=rep, query="thorntn")
        assert setting() == 0.35
        raise RuntimeError  # the rollback takes the session back to 0.5
    assert setting() == 0.5
    assert _names(search_all(actor=rep, query="thorntn")) == ["Margaret Thornton"]
    assert setting() == 0.35
