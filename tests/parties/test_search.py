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


# --- contacts: every word within one edit of a name word ------------------------------------


def _osa(a: str, b: str) -> int:
    """Reference: optimal-string-alignment distance by dynamic programming."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def test_within_one_edit_agrees_with_the_edit_distance() -> None:
    import random

    from rapport.parties.search import within_one_edit

    rng = random.Random(7)
    fixed = ["johnston", "johsnton", "jonh", "john", "megan", "meghan", "ann", "anna", "dan", "zoë", "zoe", "a", ""]
    pairs = [(a, b) for a in fixed for b in fixed]
    for _ in range(3000):  # random near and far pairs
        word = "".join(rng.choice("abcn") for _ in range(rng.randint(0, 6)))
        other = list(word)
        for _edit in range(rng.randint(0, 2)):
            op, at = rng.randint(0, 3), rng.randint(0, max(0, len(other) - 1))
            if op == 0 and other:
                del other[at]
            elif op == 1:
                other.insert(at, rng.choice("abcn"))
            elif op == 2 and other:
                other[at] = rng.choice("abcn")
            elif len(other) > 1 and at + 1 < len(other):
                other[at], other[at + 1] = other[at + 1], other[at]
        pairs.append((word, "".join(other)))
    assert all(within_one_edit(a, b) == (_osa(a, b) <= 1) for a, b in pairs)


def test_deletions_of_both_words_meet_exactly_when_one_edit_apart() -> None:
    from rapport.parties.search import deletions

    assert deletions("jonh") & deletions("john")  # swapped neighbours share "jon"/"joh"
    assert deletions("megan") & deletions("meagan")  # one letter more
    assert {"megan", "egan", "mgan", "mean", "megn", "mega"} == deletions("megan")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Smith John", ["John Smith"]),  # any order
        ("jonh smiht", ["John Smith"]),  # a swap in each word
        ("jon smith", ["John Smith"]),  # a letter dropped
        ("joohn smith", ["John Smith"]),  # a letter added
        ("j smith", ["John Smith", "Joanna Smithers"]),  # an initial, a prefix: both words begin hers
        ("jhon smtih", ["John Smith"]),
        ("jnoh smith", []),  # two swaps in one word is two edits
        ("john smyth", ["John Smith"]),
        ("O'Brien", ["Zoë O'Brien"]),
        ("zoe obrien", ["Zoë O'Brien"]),  # "obrien" is one letter more than "brien"
        ("zoe obrain", []),  # two edits from "brien"
        ("zoe brien", ["Zoë O'Brien"]),
    ],
)
def test_contact_names_match_word_by_word_within_one_edit(rep, query: str, found: list[str]) -> None:
    contact_create(actor=rep, data={"first_name": "John", "last_name": "Smith"})
    contact_create(actor=rep, data={"first_name": "Zoë", "last_name": "O'Brien"})
    contact_create(actor=rep, data={"first_name": "Joanna", "last_name": "Smithers"})
    assert _names(search_all(actor=rep, query=query)) == found


def test_renamed_and_imported_contacts_are_found_with_a_typo(rep, settings, tmp_path) -> None:
    from rapport.parties.imports.services import import_job_configure, import_job_create, import_run
    from rapport.parties.services import contact_update

    settings.RAPPORT_IMPORT_DIR = tmp_path / "imports"
    ada = contact_create(actor=rep, data={"first_name": "Ada", "last_name": "Lovelace"})
    contact_update(actor=rep, contact=ada, data={"last_name": "Byron"}, expected_version=1)
    assert _names(search_all(actor=rep, query="ada bryon")) == ["Ada Byron"]

    source = tmp_path / "people.csv"
    source.write_text("first_name,last_name,email\nGrace,Hopper,grace@example.test\nAlan,Turing,alan@example.test\n")
    job = import_job_create(actor=rep, kind="contacts", path=source, original_name="people.csv", mode="upsert")
    import_job_configure(actor=rep, job=job, mapping=job.mapping, match_key="email", mode="upsert")
    assert import_run(job_id=job.pk).created_count == 2
    assert _names(search_all(actor=rep, query="grace hoper")) == ["Grace Hopper"]
    assert _names(search_all(actor=rep, query="alan truing")) == ["Alan Turing"]
