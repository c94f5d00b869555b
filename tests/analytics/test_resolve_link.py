"""``link``: new records against known ones with a fixed matcher, the one-record matcher's scores exactly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rapport.analytics.resolve import ColumnMap, Matcher, default_matcher, link, resolve
from rapport.analytics.resolve.compare import FIELD_NAMES
from rapport.analytics.resolve.link import PAIR_COLUMNS
from rapport.analytics.resolve.simulate import people


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    frame = people(2_000, seed=5)
    return frame.iloc[:1_500].drop(columns=["corruptions"]), frame.iloc[1_500:].drop(columns=["corruptions"]), frame


@pytest.fixture(scope="module")
def fitted(split) -> Matcher:
    existing, _new, _frame = split
    return Matcher.from_resolution(resolve(existing.drop(columns=["entity_id"])), top_n=200)


def test_every_pair_gets_the_probability_matcher_score_gives_it(split, fitted):
    # given existing and new records, and a matcher fitted elsewhere (top 200 names only: defaults used)
    existing, new, _frame = split
    got = link(existing.drop(columns=["entity_id"]), new.drop(columns=["entity_id"]), matcher=fitted,
               min_probability=0.0).pairs
    assert list(got.columns) == list(PAIR_COLUMNS)
    rows = {r["id"]: r for r in pd.concat([existing, new]).drop(columns=["entity_id"]).to_dict("records")}
    new_ids = list(new["id"])
    position = {rid: i for i, rid in enumerate(new_ids)}
    assert len(got) > 300
    # then no pair is between two existing records, and a new-new pair has the earlier record left
    assert got["id_r"].isin(new_ids).all()
    both_new = got[got["id_l"].isin(new_ids)]
    assert len(both_new) > 10
    assert all(position[a] < position[b] for a, b in zip(both_new["id_l"], both_new["id_r"], strict=True))
    # and each pair scores as Matcher.score scores the new record against the left one
    for pair in got.itertuples(index=False):
        score = fitted.score(rows[pair.id_r], [rows[pair.id_l]])[0]
        if score.exact_copy:
            assert (pair.exact_copy, pair.probability, math.isinf(pair.match_weight)) == (True, 1.0, True)
            continue
        assert abs(score.probability - pair.probability) <= 1e-12, (pair, score)
        assert abs(score.match_weight - pair.match_weight) <= 1e-9
        assert score.codes == tuple(int(getattr(pair, f)) for f in FIELD_NAMES)
        assert (score.swapped, pair.exact_copy) == (bool(pair.swapped), False)


def test_it_finds_the_new_records_that_are_duplicates(split):
    # given the default prior and the truth of the simulation
    existing, new, _frame = split
    pairs = link(existing.drop(columns=["entity_id"]), new.drop(columns=["entity_id"]),
                 matcher=default_matcher(), min_probability=0.9).pairs
    entity = dict(zip(pd.concat([existing, new])["id"], pd.concat([existing, new])["entity_id"], strict=True))
    true_pairs = sum(entity[a] == entity[b] for a, b in zip(pairs["id_l"], pairs["id_r"], strict=True))
    # then nearly every pair it reports at 0.9 or above is a true duplicate
    assert len(pairs) > 100
    assert true_pairs / len(pairs) > 0.95


def test_names_in_either_order_block_without_a_birth_date():
    # given two records that share only the name (swapped) and a typo'd email
    existing = pd.DataFrame([{"id": "a", "given_name": "Ada", "surname": "Lovelace", "email": "ada@example.com"}])
    new = pd.DataFrame([{"id": "b", "given_name": "Lovelace", "surname": "Ada", "email": "ada@exmaple.com"}])
    pairs = link(existing, new, matcher=default_matcher(), min_probability=0.0).pairs
    # then the pair is found (the batch's keys alone would need a date of birth) and compared crossed
    assert list(zip(pairs["id_l"], pairs["id_r"], pairs["swapped"], strict=True)) == [("a", "b", True)]
    assert (pairs["given_name"][0], pairs["surname"][0], pairs["email"][0]) == (4, 3, 1)


def test_empty_and_bad_input():
    matcher = default_matcher()
    empty = pd.DataFrame({"id": pd.Series([], dtype=object)})
    one = pd.DataFrame([{"id": "x", "given_name": "Ada"}])
    assert link(empty, empty, matcher=matcher).pairs.empty
    assert link(one, empty, matcher=matcher).pairs.empty
    assert link(empty, one, matcher=matcher).pairs.empty
    with pytest.raises(ValueError, match="duplicate"):
        link(one, one, matcher=matcher)
    with pytest.raises(KeyError):
        link(one, one.rename(columns={"id": "key"}), matcher=matcher)


def test_a_block_over_the_cap_yields_no_pairs_and_a_warning():
    existing = pd.DataFrame([{"id": f"e{i}", "given_name": "Sam", "surname": "Lee", "phone": "+14155550100"}
                             for i in range(5)])
    new = pd.DataFrame([{"id": "n", "given_name": "Sam", "surname": "Lee", "phone": "+14155550100"}])
    got = link(existing, new, matcher=default_matcher(), cap=3, columns=ColumnMap())
    assert got.pairs.empty
    assert len(got.warnings) == 2  # the phone and the names blocks
    assert np.all([w.startswith("blocking key") for w in got.warnings])
