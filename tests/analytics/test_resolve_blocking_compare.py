"""Blocking (candidate pairs, the block-size cap) and comparison levels, on hand-made records."""

from __future__ import annotations

import random

import duckdb
import pandas as pd

from rapport.analytics.resolve.blocking import candidate_pairs
from rapport.analytics.resolve.compare import FIELD_NAMES, compare_sql, jaro, jaro_winkler, value_frequencies
from rapport.analytics.resolve.prepare import ColumnMap, prepare


def connect(frame: pd.DataFrame, exact: tuple[str, ...] = ()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("recs", prepare(frame, ColumnMap(), exact))
    return con


def person(**values: str) -> dict[str, str]:
    base = dict.fromkeys(("given_name", "surname", "email", "phone", "street_address", "city", "postcode", "state",
                          "date_of_birth", "organisation"), "")
    return {**base, **values}


def test_a_typo_in_one_field_still_finds_the_pair_through_another_key():
    # given two records of one person: the email differs, the surname has a typo
    frame = pd.DataFrame([
        person(given_name="Robert", surname="Smith", email="rs@example.org", date_of_birth="1980-03-07",
               postcode="3000"),
        person(given_name="Bob", surname="Smiht", email="bob@example.org", date_of_birth="1980-03-07",
               postcode="3000"),
        person(given_name="Alice", surname="Jones", email="aj@example.org", date_of_birth="1991-01-01"),
    ])
    con = connect(frame)
    # when blocking
    report = candidate_pairs(con)
    # then exactly that pair is a candidate (via given name + date of birth)
    assert con.execute("SELECT l, r FROM cand").fetchall() == [(0, 1)]
    assert report.candidate_pairs == 1
    assert report.warnings == ()
    by_key = {k.key: k.pairs for k in report.keys}
    assert by_key["given name+dob"] == 1
    assert by_key["email"] == 0


def test_a_block_over_the_cap_is_skipped_with_a_warning_not_exploded():
    # given 50,000 different people who all give one phone number (a switchboard)
    frame = pd.DataFrame({"given_name": [f"g{i}" for i in range(50_000)], "surname": "x",
                          "phone": "+61 2 9999 0000", "email": [f"p{i}@example.org" for i in range(50_000)]})
    con = connect(frame)
    # when blocking with a cap of 1,000 records per block
    report = candidate_pairs(con, cap=1_000)
    # then the phone block yields no pairs and a warning says so
    phone = next(k for k in report.keys if k.key == "phone")
    assert (phone.pairs, phone.skipped_blocks, phone.skipped_records, phone.largest_block) == (0, 1, 50_000, 50_000)
    assert report.candidate_pairs == 0
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("blocking key 'phone': 1 block(s) holding 50,000 records skipped")


def test_exact_columns_keep_pairs_inside_their_group():
    frame = pd.DataFrame([person(email="a@example.org", state="NSW"), person(email="a@example.org", state="VIC"),
                          person(email="a@example.org", state="nsw")])
    con = connect(frame, exact=("state",))
    candidate_pairs(con)
    assert con.execute("SELECT l, r FROM cand").fetchall() == [(0, 2)]


def levels_of(a: dict[str, str], b: dict[str, str]) -> dict[str, int]:
    con = connect(pd.DataFrame([a, b]))
    value_frequencies(con)
    con.execute("CREATE TABLE p AS SELECT 0::BIGINT AS l, 1::BIGINT AS r")
    row = con.execute(f"SELECT swapped, {', '.join(FIELD_NAMES)} FROM ({compare_sql(pairs='p')})").fetchdf()
    return row.iloc[0].to_dict()


def test_compare_levels_for_nicknames_phones_dates_and_addresses():
    a = person(given_name="Robert", surname="Smith", email="Rob.Smith@example.org", phone="+61 412 345 678",
               street_address="Unit 3, 12 Main Street", city="Northcote", postcode="3070", date_of_birth="1980-03-07")
    b = person(given_name="Bob", surname="Smyth", email="rob.smith@example.org", phone="0412.345.678",
               street_address="3/12 Main St", city="Northcote", postcode="3070", date_of_birth="07/03/1980")
    got = levels_of(a, b)
    assert got == {"swapped": False, "given_name": 4, "surname": 1, "email": 2, "phone": 2, "date_of_birth": 3,
                   "location": 4, "organisation": -1}


def test_compare_levels_for_swapped_names_initials_and_day_month_swaps():
    a = person(given_name="John", surname="Okafor", date_of_birth="1980-03-07", phone="0412345678")
    b = person(given_name="Okafor", surname="John", date_of_birth="1980-07-03", phone="0412345687")
    assert levels_of(a, b) == {"swapped": True, "given_name": 4, "surname": 3, "email": -1, "phone": 1,
                               "date_of_birth": 2, "location": -1, "organisation": -1}
    c = person(given_name="J.", surname="Okafor", date_of_birth="1981-03-07", postcode="3070")
    d = person(given_name="John", surname="Okafor", date_of_birth="1980-03-07", postcode="3070", city="Elsewhere")
    assert levels_of(c, d) == {"swapped": False, "given_name": 1, "surname": 3, "email": -1, "phone": -1,
                               "date_of_birth": 1, "location": 1, "organisation": -1}


def test_our_jaro_winkler_agrees_with_duckdb_on_random_strings():
    # given 2,000 random pairs of short strings over a small alphabet (so they share letters)
    rng = random.Random(1)
    pairs = [("".join(rng.choice("abcde") for _ in range(rng.randint(1, 9))),
              "".join(rng.choice("abcde") for _ in range(rng.randint(1, 9)))) for _ in range(2_000)]
    pairs += [("martha", "marhta"), ("dwayne", "duane"), ("dixon", "dicksonx"), ("a", "a")]
    con = duckdb.connect()
    con.register("frame", pd.DataFrame(pairs, columns=["a", "b"]))
    theirs = con.execute("SELECT jaro_winkler_similarity(a, b) AS jw, jaro_similarity(a, b) AS j FROM frame").fetchdf()
    # then ours matches DuckDB's to 1e-9 on every pair
    for (a, b), jw, j in zip(pairs, theirs["jw"], theirs["j"], strict=True):
        assert abs(jaro(a, b) - j) < 1e-9, (a, b)
        assert abs(jaro_winkler(a, b) - jw) < 1e-9, (a, b)
    assert round(jaro_winkler("martha", "marhta"), 4) == 0.9611


def test_organisation_levels_employer_names_and_work_domains():
    ann = {"given_name": "Ann", "surname": "Lee"}
    # legal forms, case and punctuation do not make two employers different
    assert levels_of(person(**ann, organisation="Acme Widgets Pty Ltd"),
                     person(**ann, organisation="ACME WIDGETS PTY. LIMITED"))["organisation"] == 3
    assert levels_of(person(**ann, organisation="Harwood Logistics"),
                     person(**ann, organisation="Harwood Logistcs"))["organisation"] == 2
    assert levels_of(person(**ann, organisation="Harwood Logistics"),
                     person(**ann, organisation="Coley Media"))["organisation"] == 0
    # no employer on one side and no work domain: no evidence either way
    assert levels_of(person(**ann, organisation="Coley Media"), person(**ann))["organisation"] == -1
    # different work emails at one company's domain agree on the domain; free mail names no company
    assert levels_of(person(**ann, email="ann@acme.com.au"), person(**ann, email="a.lee@acme.com.au"))[
        "organisation"] == 1
    assert levels_of(person(**ann, email="ann@gmail.com"), person(**ann, email="a.lee@gmail.com"))[
        "organisation"] == -1
    assert levels_of(person(**ann, email="ann@acme.com.au"), person(**ann, email="ann@coley.com.au"))[
        "organisation"] == 0
    # the same email already scored its domain: it is not counted a second time
    assert levels_of(person(**ann, email="ann@acme.com.au"), person(**ann, email="ann@acme.com.au"))[
        "organisation"] == -1
    # differently written names of one company, same work domain
    assert levels_of(person(**ann, organisation="IBM", email="ann@ibm.com"),
                     person(**ann, organisation="International Business Machines", email="alee@ibm.com"))[
        "organisation"] == 1
