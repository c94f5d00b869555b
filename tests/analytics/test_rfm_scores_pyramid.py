"""RFM scores on hand-computed examples, the segment map, pyramid thresholds, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rapport.analytics.rfm import (
    SEGMENT_MAP,
    RfmInputError,
    ThresholdError,
    customer_pyramid,
    quintile_scores,
    rfm_scores,
    rfm_segment,
    rfm_summary,
)


def test_quintile_scores_hand_examples() -> None:
    assert quintile_scores([50, 10, 30, 20, 40]).tolist() == [5, 1, 3, 2, 4]
    assert quintile_scores(range(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores([1, 1, 1, 2]).tolist() == [1, 1, 1, 4]  # ties share a score
    assert quintile_scores([7, 7, 7]).tolist() == [1, 1, 1]  # all equal: one score, no crash
    assert quintile_scores([1, 2, 3, 4, 5], reverse=True).tolist() == [5, 4, 3, 2, 1]


def test_summary_and_scores_hand_example() -> None:
    tx = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "b", "c", "c", "d", "e", "e"],
            "date": [
                "2024-06-01",
                "2024-06-20",
                "2024-06-29",
                "2024-01-01",
                "2024-05-01",
                "2024-06-25",
                "2024-03-01",
                "2024-06-10",
                "2024-06-28",
            ],
            "amount": [100, 200, 300, 10, 50, 50, 1000, 20, 40],
        }
    )
    s = rfm_summary(tx, as_of="2024-06-30")
    assert s.loc["a"].tolist() == [1, 3, 200.0]
    assert s.loc["b"].tolist() == [181, 1, 10.0]
    scored = rfm_scores(s)
    assert scored.loc["a", "RFM"] == "554"
    assert scored.loc["b", "RFM"] == "111"
    assert scored.loc["a", "segment"] == "Champions"
    assert scored.loc["b", "segment"] == "Lost"


def test_segment_map_is_complete_and_customary() -> None:
    assert len(SEGMENT_MAP) == 25
    assert set(SEGMENT_MAP.values()) == {
        "Champions",
        "Loyal",
        "Potential loyalist",
        "New",
        "Promising",
        "Need attention",
        "About to sleep",
        "At risk",
        "Can't lose them",
        "Hibernating",
        "Lost",
    }
    got = rfm_segment([5, 5, 1, 1, 3, 2, 4], [5, 1, 1, 5, 3, 3, 1], [5, 1, 1, 5, 3, 3, 1]).tolist()
    assert got == ["Champions", "New", "Lost", "Can't lose them", "Need attention", "At risk", "Promising"]
    with pytest.raises(RfmInputError, match="1..5"):
        rfm_segment([0], [1], [1])


def test_pyramid_by_shares_exact_sizes() -> None:
    v = np.random.default_rng(0).lognormal(5, 1, 1000)
    tiers = customer_pyramid(v, shares={"platinum": 0.01, "gold": 0.04, "iron": 0.15})
    counts = pd.Series(tiers).value_counts()
    assert counts.to_dict() == {"lead": 800, "iron": 150, "gold": 40, "platinum": 10}
    assert v[tiers == "platinum"].min() >= v[tiers == "gold"].max()


def test_pyramid_by_cutoffs() -> None:
    tiers = customer_pyramid([5, 50, 500, 5000, 200], cutoffs={"platinum": 1000, "gold": 200, "iron": 50})
    assert tiers.tolist() == ["lead", "iron", "gold", "platinum", "gold"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"cutoffs": {"platinum": 1, "gold": 2, "iron": 0}},
        {"cutoffs": {"platinum": 3, "gold": 2}},
        {"shares": {"platinum": 0.5, "gold": 0.3, "iron": 0.3}},
        {"shares": {"platinum": 0.0, "gold": 0.3, "iron": 0.3}},
        {"shares": {"platinum": 0.1, "gold": 0.1, "iron": 0.1}, "cutoffs": {"platinum": 3, "gold": 2, "iron": 1}},
    ],
)
def test_pyramid_bad_thresholds(kwargs) -> None:
    with pytest.raises(ThresholdError):
        customer_pyramid([1.0, 2.0, 3.0], **kwargs)


def test_rfm_bad_input() -> None:
    with pytest.raises(RfmInputError, match="no values"):
        quintile_scores([])
    with pytest.raises(RfmInputError, match="NaN"):
        quintile_scores([1.0, np.nan])
    with pytest.raises(RfmInputError, match="no transactions"):
        rfm_summary(pd.DataFrame({"customer": [], "date": [], "amount": []}))
    with pytest.raises(RfmInputError, match="lack columns"):
        rfm_summary(pd.DataFrame({"customer": ["a"]}))
    with pytest.raises(RfmInputError, match="amounts"):
        rfm_summary(pd.DataFrame({"customer": ["a"], "date": ["2024-01-01"], "amount": ["x"]}))
    with pytest.raises(RfmInputError, match="after as_of"):
        rfm_summary(pd.DataFrame({"customer": ["a"], "date": ["2024-01-01"], "amount": [1]}), as_of="2023-01-01")
    with pytest.raises(RfmInputError, match="NaN"):
        customer_pyramid([1.0, np.nan], cutoffs={"platinum": 3, "gold": 2, "iron": 1})
