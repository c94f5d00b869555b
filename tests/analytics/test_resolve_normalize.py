"""Each normaliser of rapport.analytics.resolve.normalize, on the spellings real files contain."""

from __future__ import annotations

import math

import numpy as np

from rapport.analytics.resolve import normalize as nz
from rapport.analytics.resolve.nicknames import CANONICAL, PAIRS


def test_fold_lowers_strips_accents_and_collapses_spaces():
    assert nz.fold("  Zoë   ÅSTRÖM ") == "zoe astrom"
    assert nz.fold("Straße Łódź Øresund") == "strasse lodz oresund"
    assert nz.fold(None) == ""
    assert nz.fold(float("nan")) == ""
    assert nz.fold(4000.0) == "4000"


def test_name_tokens_join_apostrophes_and_split_hyphens():
    assert nz.name_tokens("O'Brien-Smith") == ["obrien", "smith"]
    assert nz.name_tokens("  ") == []


def test_given_name_drops_titles_and_keeps_the_first_name():
    assert nz.given_name("Dr. Mary-Anne") == "mary"
    assert nz.given_name("Mr") == ""


def test_canonical_given_resolves_nicknames():
    assert nz.canonical_given("Bob") == "robert"
    assert nz.canonical_given("BILL") == "william"
    assert nz.canonical_given("Liz") == "elizabeth"
    assert nz.canonical_given("Beth") == "elizabeth"
    assert nz.canonical_given("Katie") == "katherine"
    assert nz.canonical_given("Kate") == "katherine"
    assert nz.canonical_given("Jim") == "james"
    assert nz.canonical_given("Robert") == "robert"
    assert nz.canonical_given("Xanthe") == "xanthe"


def test_the_nickname_table_is_large_and_canonical_names_map_to_themselves():
    assert PAIRS >= 150
    assert all(CANONICAL[full] == full for full in ("robert", "william", "elizabeth", "katherine", "james"))


def test_initial_is_the_first_letter_of_the_given_name():
    assert nz.initial("J.") == "j"
    assert nz.initial("Mrs Jane") == "j"
    assert nz.initial("") == ""


def test_surname_runs_words_together_and_drops_suffixes():
    assert nz.surname("van der Berg Jr.") == "vanderberg"
    assert nz.surname("O'Connor") == "oconnor"
    assert nz.surname("SMITH-JONES") == "smithjones"


def test_soundex_matches_the_published_examples():
    # The examples of the US National Archives' description of American Soundex.
    assert [nz.soundex(name) for name in ("Robert", "Rupert", "Rubin", "Ashcraft", "Ashcroft", "Tymczak",
                                          "Pfister", "Honeyman")] == \
        ["R163", "R163", "R150", "A261", "A261", "T522", "P236", "H555"]
    assert nz.soundex("Lee") == "L000"
    assert nz.soundex("") == ""


def test_phone_keeps_the_last_nine_digits_of_any_format():
    same = ["+44 20 7946 0018", "(020) 7946 0018", "020.7946.0018", "00442079460018", "020-7946-0018"]
    assert {nz.phone(v) for v in same} == {"079460018"}
    assert nz.phone("+61 412 345 678") == nz.phone("0412 345 678") == "412345678"
    assert nz.phone("ext 12") == ""
    assert nz.phone(412345678.0) == "412345678"


def test_email_lower_cases_drops_tags_and_gmail_dots():
    assert nz.email("  Jo.Smith+crm@GMAIL.com ") == "josmith@gmail.com"
    assert nz.email("jo.smith@googlemail.com") == "josmith@gmail.com"
    assert nz.email("Jo.Smith@Example.ORG") == "jo.smith@example.org"
    assert nz.email("jo smith") == ""
    assert nz.email_local("jo.smith@example.org") == "jo.smith"


def test_street_address_abbreviates_street_words_and_drops_unit_words():
    forms = ["Unit 3, 12 Main Street", "3/12 main st.", "Apt 3 12 MAIN ST", "3 / 12 Main Str"]
    assert {nz.street_address(v) for v in forms} == {"3 12 main st"}
    assert nz.street_address("12 North Road") == "12 n rd"
    assert nz.street_address("7 Crescent Avenue") == "7 cres ave"


def test_city_and_postcode_and_state():
    assert nz.city("Mt. Eliza") == "mount eliza"
    assert nz.city("St Kilda") == "saint kilda"
    assert nz.postcode("SW1A 1AA") == "sw1a1aa"
    assert nz.postcode("12345-6789") == "12345"
    assert nz.postcode(3000.0) == "3000"
    assert nz.state(" N.S.W. ") == "n s w"


def test_parse_date_reads_the_common_formats_to_iso():
    assert nz.parse_date("1980-03-07") == "1980-03-07"
    assert nz.parse_date("1980-03-07T00:00:00") == "1980-03-07"
    assert nz.parse_date("19800307") == "1980-03-07"
    assert nz.parse_date("07/03/1980") == "1980-03-07"
    assert nz.parse_date("07/03/1980", dayfirst=False) == "1980-07-03"
    assert nz.parse_date("25/12/1980", dayfirst=False) == "1980-12-25"
    assert nz.parse_date("12/25/1980") == "1980-12-25"
    assert nz.parse_date("7.3.80") == "1980-03-07"
    assert nz.parse_date("7/3/05") == "2005-03-07"
    assert nz.parse_date("3 March 1980") == "1980-03-03"
    assert nz.parse_date("March 7, 1980") == "1980-03-07"
    assert nz.parse_date("7th Mar 1980") == "1980-03-07"


def test_parse_date_rejects_what_is_no_date():
    assert [nz.parse_date(v) for v in ("31/02/1980", "1800-01-01", "soon", "", None, "1980")] == [""] * 6


def test_infer_dayfirst_reads_the_unambiguous_values():
    assert nz.infer_dayfirst(["25/12/1980", "01/02/1990"]) is True
    assert nz.infer_dayfirst(["12/25/1980", "01/02/1990"]) is False
    assert nz.infer_dayfirst(["01/02/1990"]) is True


def test_swap_day_month_detects_the_swapped_reading():
    assert nz.swap_day_month("1980-03-07") == "1980-07-03"
    assert nz.swap_day_month("1980-03-25") == ""
    assert nz.swap_day_month("1980-03-03") == ""
    assert nz.swap_day_month("") == ""


def test_every_normaliser_is_idempotent():
    samples = ["Zoë O'Brien", "Unit 3, 12 Main Street", "Jo.Smith+x@Gmail.com", "SW1A 1AA", "Mt. Eliza"]
    for fn in (nz.fold, nz.street_address, nz.city, nz.postcode, nz.email, nz.surname):
        for value in samples:
            once = fn(value)
            assert fn(once) == once, (fn.__name__, value)


def test_apply_unique_calls_once_per_distinct_value_and_keeps_order():
    calls = []

    def upper(value: object) -> str:
        calls.append(value)
        return nz.text(value).upper()

    out = nz.apply_unique(["a", "b", "a", None, math.nan, "b"], upper)
    assert list(out) == ["A", "B", "A", "", "", "B"]
    assert len(calls) == 3
    assert isinstance(out, np.ndarray)
