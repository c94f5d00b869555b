"""The one-record matcher: the batch's probabilities exactly, storage, the default prior, bad input."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from rapport.analytics.resolve import ColumnMap, Matcher, default_matcher, matcher_of_run, resolve
from rapport.analytics.resolve.compare import (
    FIELD_NAMES,
    _utf8,
    at_most_one_edit,
    compare_records,
    compare_sql,
    value_frequencies,
)
from rapport.analytics.resolve.matcher import MIN_LEARNT_MATCHES, expected_matches, fit_default_matcher
from rapport.analytics.resolve.prepare import normalise_record, prepare
from rapport.analytics.resolve.simulate import people

TRUTH = ["entity_id", "corruptions"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return people(3_000, seed=21).drop(columns=TRUTH)


@pytest.fixture(scope="module")
def batch(frame: pd.DataFrame):
    # Every scored pair is reported (min_pair_probability=0), so the weak levels are checked too.
    return resolve(frame, min_pair_probability=0.0)


def test_score_gives_every_batch_pair_the_batch_probability(frame: pd.DataFrame, batch):
    # given the matcher of a batch run that kept every frequency
    matcher = Matcher.from_resolution(batch, top_n=None)
    pairs = batch.pairs[np.isfinite(batch.pairs["match_weight"])]
    assert len(pairs) > 1_000
    rows = {record["id"]: record for record in frame.to_dict("records")}
    checked = 0
    # when each right-hand record is scored against its left-hand partners as candidates
    for id_r, group in pairs.groupby("id_r", sort=False):
        candidates = [rows[i] for i in group["id_l"]]
        got = {s.id: s for s in matcher.score(rows[id_r], candidates, id_column="id")}
        # then probability, weight, levels and the swap flag are the batch's
        for pair in group.itertuples(index=False):
            score = got[pair.id_l]
            assert abs(score.probability - pair.probability) <= 1e-12, (pair, score)
            assert abs(score.match_weight - pair.match_weight) <= 1e-9
            assert score.codes == tuple(int(getattr(pair, f)) for f in FIELD_NAMES)
            assert score.swapped == pair.swapped
            checked += 1
    assert checked == len(pairs)
    assert set(pairs["probability"].round(0)) == {0.0, 1.0}  # both strong and weak pairs were compared


def test_exact_copies_score_one_as_the_batch_reports_them(frame: pd.DataFrame):
    # given a table in which record 1 is an exact copy of record 0
    first = frame.iloc[0].to_dict()
    copied = pd.DataFrame([first, {**first, "id": "copy"}, frame.iloc[1].to_dict()])
    result = resolve(copied, min_pair_probability=0.0)
    assert result.collapsed == 1
    # when the copy is scored against the original with that run's matcher
    (score,) = Matcher.from_resolution(result, top_n=None).score({**first, "id": "copy"}, [first])
    # then it is an exact copy with probability 1, as in the batch's pairs
    batch_pair = result.pairs[result.pairs["id_r"] == "copy"].iloc[0]
    assert (score.exact_copy, score.probability, score.match_weight) == (True, 1.0, math.inf)
    assert (batch_pair["probability"], batch_pair["match_weight"]) == (1.0, math.inf)


def test_python_comparison_equals_the_sql_on_random_and_candidate_pairs(frame: pd.DataFrame, batch):
    # given the normalised table and 4,000 random pairs plus the batch's candidate pairs
    records = prepare(frame, ColumnMap())
    rng = np.random.default_rng(5)
    i, j = rng.integers(0, len(frame), 4_000), rng.integers(0, len(frame), 4_000)
    position = pd.Series(np.arange(len(frame)), index=frame["id"])
    left = np.concatenate([i, position[batch.pairs["id_l"]].to_numpy()])
    right = np.concatenate([j, position[batch.pairs["id_r"]].to_numpy()])
    con = duckdb.connect()
    con.register("recs", records)
    con.register("p", pd.DataFrame({"l": left, "r": right}))
    value_frequencies(con)
    query = f"SELECT l, r, swapped, {', '.join(FIELD_NAMES)} FROM ({compare_sql(pairs='p')})"
    sql = {(lo, hi): (swapped, tuple(levels)) for lo, hi, swapped, *levels in con.execute(query).fetchall()}
    rows = records.drop(["rid", "exact"]).to_pylist()
    # then compare_records gives every pair the SQL's swap flag and levels
    assert len(sql) > 4_000
    for a, b in zip(left, right, strict=True):
        assert compare_records(rows[a], rows[b]) == sql[(a, b)], (rows[a], rows[b])


def test_normalise_record_equals_prepare_on_odd_values():
    # given a column of odd values: missing markers, numbers, accents, other scripts, long text
    odd = [None, np.nan, pd.NA, pd.NaT, 0, 412345678.0, 1e300, float("inf"), True, "", "  ", "Zoë O'Brien",
           "Иван", "Müller-Lüdenscheidt", "x" * 5_000, "3/4/1980", "31/12/1999", "+44 20 7946 0018", "A@B.CO"]
    raw = pd.DataFrame({role: pd.Series(odd, dtype=object) for role in
                        ("given_name", "surname", "email", "phone", "street_address", "city", "postcode", "state",
                         "date_of_birth")})
    table = prepare(raw, ColumnMap(), dayfirst=False).drop(["rid", "exact"]).to_pylist()
    # then each record normalised on its own is that record's row of the table
    for k, record in enumerate(raw.to_dict("records")):
        assert normalise_record(record, ColumnMap(), dayfirst=False) == table[k], odd[k]


def test_to_dict_round_trips_exactly_through_json(batch):
    matcher = Matcher.from_resolution(batch, threshold=0.8, min_probability=0.1, top_n=50)
    stored = json.dumps(matcher.to_dict(), allow_nan=False)
    again = Matcher.from_dict(json.loads(stored))
    assert again.to_dict() == matcher.to_dict()
    assert json.dumps(again.to_dict(), allow_nan=False) == stored
    assert (again.threshold, again.min_probability, len(again.frequencies["surname"].shares)) == (0.8, 0.1, 50)
    record = {"given_name": "Ann", "surname": "Lee", "email": "ann@example.org"}
    candidates = [{"given_name": "Anne", "surname": "Lee", "email": "ann@example.org"}, {"surname": "Lee"}]
    assert again.score(record, candidates) == matcher.score(record, candidates)


def test_from_dict_refuses_another_format_or_level_scheme():
    data = default_matcher().to_dict()
    with pytest.raises(ValueError, match="unsupported matcher format 2"):
        Matcher.from_dict({**data, "format": 2})
    fewer = json.loads(json.dumps(data))
    fewer["model"]["m"][0] = fewer["model"]["m"][0][:-1]
    fewer["model"]["u"][0] = fewer["model"]["u"][0][:-1]
    with pytest.raises(ValueError, match="fields or levels"):
        Matcher.from_dict(fewer)


def test_top_n_keeps_the_frequent_names_and_never_overstates_a_rare_one(frame: pd.DataFrame, batch):
    full = Matcher.from_resolution(batch, top_n=None)
    small = Matcher.from_resolution(batch, top_n=20)
    series = batch.frequencies["surname"]
    assert small.frequencies["surname"].default == series.iloc[20]
    assert full.frequencies["surname"].default == series.iloc[-1]
    # given two records sharing a surname outside the top 20, and two sharing the most common one
    rare, common = series.index[-1], series.index[0]
    a = {"given_name": "Ann", "surname": rare, "email": "ann@example.org"}
    b = {"given_name": "Bob", "surname": common, "city": "Zed"}
    (rare_full,), (rare_small,) = full.score(a, [a | {"email": ""}]), small.score(a, [a | {"email": ""}])
    (common_full,), (common_small,) = full.score(b, [b]), small.score(b, [b])
    # then the rare one is scored less confidently, the common one exactly the same
    assert rare_small.match_weight < rare_full.match_weight
    assert common_small.probability == common_full.probability


def test_default_matcher_is_the_stored_fit_of_simulated_people():
    stored = default_matcher()
    assert default_matcher() is stored
    fresh = fit_default_matcher()
    for ours, theirs in zip((*stored.model.m, *stored.model.u), (*fresh.model.m, *fresh.model.u), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert abs(stored.model.lam - fresh.model.lam) <= 1e-6 * fresh.model.lam
    assert stored.frequencies["surname"].shares == pytest.approx(fresh.frequencies["surname"].shares, rel=1e-9)


def test_default_matcher_flags_an_obvious_duplicate_and_not_an_obvious_stranger():
    matcher = default_matcher()
    record = {"given_name": "Katherine", "surname": "Okafor", "email": "K.Okafor@example.com"}
    same = {"id": 7, "given_name": "Kathryn", "surname": "Okafor", "email": "k.okafor@example.com"}
    stranger = {"id": 8, "given_name": "Liam", "surname": "Brennan", "email": "liam.b@example.net",
                "phone": "0412 000 111"}
    namesake = {"id": 9, "given_name": "Katherine", "surname": "Okafor", "email": "kate.o@gmail.com"}
    first, *rest = matcher.score(record, [stranger, same, namesake], id_column="id")
    assert (first.id, first.index, first.duplicate) == (7, 1, True)
    assert first.probability > 0.9
    assert first.levels == {"given_name": "nickname", "surname": "exact", "email": "exact", "phone": "missing",
                            "date_of_birth": "missing", "location": "missing",
                            "organisation": "missing"}
    by_id = {s.id: s for s in rest}
    assert by_id[8].probability < 0.1
    # the same rare name with another email is worth a look, not a warning (people change addresses)
    assert not by_id[9].duplicate and 0.1 < by_id[9].probability < 0.9
    listed = matcher.possible_duplicates(record, [stranger, same, namesake], id_column="id")
    assert [s.id for s in listed] == [7, 9]
    # the same name at another company's email domain, or another employer, is weaker evidence still
    elsewhere = {**namesake, "email": "kate.o@other.org"}
    (other_domain,) = matcher.score(record, [elsewhere])
    assert other_domain.levels["organisation"] == "different employer"
    assert other_domain.probability < by_id[9].probability
    employed = {**record, "organisation": "Okafor Design Ltd"}
    (same_job,) = matcher.score(employed, [{**namesake, "organisation": "OKAFOR DESIGN LIMITED"}])
    (other_job,) = matcher.score(employed, [{**namesake, "organisation": "Brennan Freight"}])
    assert same_job.levels["organisation"] == "same employer"
    assert same_job.probability > by_id[9].probability > other_job.probability


def test_levels_are_named_for_people_nicknames_swaps_and_missing_fields():
    matcher = default_matcher()
    record = {"given_name": "Bob", "surname": "Smith", "phone": "+61 412 345 678", "date_of_birth": "1980-03-07"}
    nickname = {"given_name": "Robert", "surname": "Smith", "phone": "0412 345 679", "date_of_birth": "07/03/1980"}
    swapped = {"given_name": "Smith", "surname": "Bob", "date_of_birth": "1980-07-03"}
    by_index = {s.index: s for s in matcher.score(record, [nickname, swapped])}
    assert by_index[0].levels == {"given_name": "nickname", "surname": "exact", "email": "missing",
                                  "phone": "one digit off", "date_of_birth": "exact", "location": "missing",
                                  "organisation": "missing"}
    assert by_index[1].swapped
    assert by_index[1].levels["given_name"] == "exact"
    assert by_index[1].levels["date_of_birth"] == "day and month swapped"


def test_missing_fields_are_no_evidence_either_way():
    matcher = default_matcher()
    # given two records with nothing in common but absent fields
    (score,) = matcher.score({"surname": "Lee"}, [{"email": "x@example.org"}])
    assert set(score.levels.values()) == {"missing"}
    # then their weight is the prior odds alone
    model = matcher.model
    others = model.lam_unmatched + sum(c.lam for c in model.related)
    assert score.match_weight == pytest.approx(math.log2(model.lam / others), rel=1e-12)
    assert score.probability < 0.01


def test_non_ascii_names_fold_as_in_the_batch():
    matcher = default_matcher()
    record = {"given_name": "ZOË", "surname": "Ångström-Müller", "email": "zoe@exämple.org"}
    candidates = [{"given_name": "Zoe", "surname": "angstrom muller", "email": "ZOE@EXAMPLE.ORG"},
                  {"given_name": "Иван", "surname": "Петров", "email": "иван@пример.рф"}]
    first, second = matcher.score(record, candidates)
    assert first.index == 0
    assert (first.levels["given_name"], first.levels["surname"], first.levels["email"]) == ("exact", "exact", "exact")
    # Cyrillic names have no letters the normalisers keep: missing, not a crash; the emails differ
    assert (second.levels["given_name"], second.levels["surname"], second.levels["email"]) == \
        ("missing", "missing", "different")


def test_an_empty_candidate_list_scores_nothing():
    assert default_matcher().score({"surname": "Lee"}, []) == []


def test_garbage_values_never_crash():
    matcher = default_matcher()
    garbage = [None, float("nan"), pd.NA, 0, -1, 3.5, 10**40, True, [], {"a": 1}, "\x00\ufffd", "🙂" * 50,
               "x" * 200_000, "@@@", "1/1/1", "99/99/9999", "\U00010a40\U00010a41/1/1990"]
    record = dict.fromkeys(("given_name", "surname", "email", "phone", "city", "date_of_birth"), "x" * 100_000)
    roles = ("given_name", "surname", "email", "phone", "street_address", "postcode", "date_of_birth")
    candidates = [dict.fromkeys(roles, value) for value in garbage]
    for subject in (record, {}, {"given_name": None, "surname": 12}):
        scores = matcher.score(subject, candidates)
        assert sorted(s.index for s in scores) == list(range(len(garbage)))
        assert all(0.0 <= s.probability <= 1.0 for s in scores)


def test_at_most_one_edit_is_damerau_levenshtein_within_one():
    words = ["", "a", "ab", "ba", "abc", "acb", "abd", "abcd", "bacd", "xabc", "abcx", "ab€c", "abc€"]
    con = duckdb.connect()
    for a in words:
        for b in words:
            expected = con.execute("SELECT damerau_levenshtein(?, ?) <= 1", [a, b]).fetchone()[0]
            assert at_most_one_edit(_utf8(a), _utf8(b)) == expected, (a, b)


def test_a_run_that_saw_duplicates_leaves_its_own_model(batch):
    matcher, learnt = matcher_of_run(batch)
    assert learnt
    assert matcher.model is batch.model
    assert expected_matches(matcher) >= MIN_LEARNT_MATCHES
    assert matcher.records == len(batch.clusters) - batch.collapsed


def test_a_run_without_duplicates_leaves_the_prior_model_with_its_own_frequencies():
    # given a table of distinct people only (households and namesakes, nobody twice)
    frame = people(3_000, seed=5, duplicate_share=0.0).drop(columns=TRUTH)
    run = resolve(frame)
    # then EM had nothing to learn from
    assert expected_matches(Matcher.from_resolution(run)) < 1.0
    matcher, learnt = matcher_of_run(run)
    assert not learnt
    assert matcher.model is default_matcher().model and matcher.records == default_matcher().records
    own = Matcher.from_resolution(run)
    assert matcher.frequencies == own.frequencies and matcher.dayfirst == own.dayfirst
    # and the result still tells a duplicate from a stranger
    record = {"given_name": "Ada", "surname": "Lovelace", "email": "ada@example.org", "phone": "+442079460001"}
    twin = {**record, "surname": "Lovelcae"}
    stranger = {"given_name": "Ada", "surname": "Lovelace", "email": "countess@elsewhere.org"}
    scores = {s.index: s for s in matcher.for_table(1_000_000).score(record, [twin, stranger])}
    assert scores[0].duplicate and not scores[1].duplicate


def test_for_table_rescales_every_lambda_by_the_number_of_pairs(batch):
    matcher = Matcher.from_resolution(batch)
    n = matcher.records
    bigger = matcher.for_table(10 * n)
    factor = (n - 1) / (10 * n - 1)
    assert bigger.records == 10 * n
    assert math.isclose(bigger.model.lam, matcher.model.lam * factor, rel_tol=1e-12)
    for mine, theirs in zip(matcher.model.related, bigger.model.related, strict=True):
        assert math.isclose(theirs.lam, mine.lam * factor, rel_tol=1e-12)
    # the expected number of duplicates grows with the records, not with the pairs
    assert math.isclose(expected_matches(bigger), 10 * expected_matches(matcher), rel_tol=0.01)
    # m, u and the frequencies are untouched; same size or unknown size: the matcher itself
    assert bigger.model.m is matcher.model.m and bigger.frequencies is matcher.frequencies
    assert matcher.for_table(n // 10) is matcher  # never scaled up: a small table keeps the fitted λ
    assert matcher.for_table(n) is matcher and Matcher.from_dict({**matcher.to_dict(), "records": None}).for_table(5) \
        .records is None
    # against unrelated people a pair's weight drops by log2 of the factor; against a household or
    # namesake explanation (scaled alike) by less, never more
    record = {"given_name": "Ada", "surname": "Lovelace", "email": "ada@example.org", "date_of_birth": "1815-12-10"}
    stranger = {"given_name": "Grace", "surname": "Hopper", "email": "grace@navy.test", "date_of_birth": "1906-12-09"}
    twin = {**record, "surname": "Lovelcae"}
    drops = [matcher.score(record, [c])[0].match_weight - bigger.score(record, [c])[0].match_weight
             for c in (stranger, twin)]
    assert math.isclose(drops[0], math.log2(1 / factor), rel_tol=1e-3)
    assert 0.0 < drops[1] <= math.log2(1 / factor) + 1e-9


def test_records_round_trip_and_an_old_stored_matcher_reads_as_unknown_size(batch):
    matcher = Matcher.from_resolution(batch)
    assert Matcher.from_dict(json.loads(json.dumps(matcher.to_dict()))).records == matcher.records
    old = matcher.to_dict()
    del old["records"]
    assert Matcher.from_dict(old).records is None
