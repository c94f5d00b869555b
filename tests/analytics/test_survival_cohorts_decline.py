"""Cohort matrix on a hand example, planted decliners, defection reasons, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rapport.analytics.survival import (
    OneGroupError,
    SurvivalInputError,
    cohort_retention,
    declining_accounts,
    defection_reasons,
    kaplan_meier,
    logrank_test,
)


def test_cohort_matrix_hand_example() -> None:
    tx = pd.DataFrame(
        {
            "customer": ["a", "a", "b", "b", "c", "d", "d"],
            "date": ["2024-01-05", "2024-02-10", "2024-01-20", "2024-03-01", "2024-02-02", "2024-02-15", "2024-03-30"],
        }
    )
    m = cohort_retention(tx)
    jan, feb, mar = (pd.Period(p, "M") for p in ("2024-01", "2024-02", "2024-03"))
    assert m.loc[jan, "customers"] == 2 and m.loc[feb, "customers"] == 2
    assert m.loc[jan, 0] == 1.0 and m.loc[jan, 1] == 0.5 and m.loc[jan, 2] == 0.5
    assert m.loc[feb, 0] == 1.0 and m.loc[feb, 1] == 0.5
    assert np.isnan(m.loc[feb, 2])  # February's cohort has not reached period 2 yet


def _planted(seed: int = 0):
    rng = np.random.default_rng(seed)
    months = pd.period_range("2023-01", "2024-03", freq="M")
    rows = []
    for c in range(60):
        declining = c < 10
        for i, mth in enumerate(months):
            level = 100.0 if not (declining and i >= len(months) - 3) else 20.0
            rows.append((f"c{c:02d}", mth.to_timestamp() + pd.Timedelta(days=3), level * rng.uniform(0.8, 1.2)))
    rows.append(("oneoff", pd.Timestamp("2023-05-04"), 900.0))
    return pd.DataFrame(rows, columns=["customer", "date", "amount"])


def test_declining_accounts_finds_planted_and_not_stable() -> None:
    found = declining_accounts(_planted())
    assert {a.customer for a in found} == {f"c{c:02d}" for c in range(10)}
    assert [a.drop for a in found] == sorted((a.drop for a in found), reverse=True)
    assert all(a.drop_share > 0.6 and a.p_value < 0.05 for a in found)


def test_defection_reasons_tally() -> None:
    d = pd.DataFrame({"reason": ["Price", "price ", "service", None, "Price"], "segment": ["a", "a", "a", "b", "b"]})
    all_ = defection_reasons(d)
    assert all_.iloc[0].to_dict() == {"reason": "price", "count": 3, "share": 0.6}
    by = defection_reasons(d, by=("segment",))
    assert by.groupby("segment")["share"].sum().tolist() == [1.0, 1.0]
    assert set(by[by.segment == "b"].reason) == {"price", "unknown"}


def test_grouped_counts_tally_like_the_rows_they_stand_for() -> None:
    rows = pd.DataFrame({"reason": ["Price", "price ", "service", None, "Price", "service"],
                         "source": ["deal", "deal", "deal", "sub", "sub", "sub"]})
    grouped = rows.fillna({"reason": "\0"}).groupby(["source", "reason"]).size().rename("n").reset_index()
    grouped["reason"] = grouped["reason"].replace("\0", None)
    grouped.loc[len(grouped)] = {"source": "deal", "reason": "refund", "n": 0}  # a zero count is no reason
    weighted = defection_reasons(grouped, by=("source",), weight="n")
    pd.testing.assert_frame_equal(weighted, defection_reasons(rows, by=("source",)))
    assert weighted[weighted.source == "deal"].iloc[0].to_dict() == {"source": "deal", "reason": "price",
                                                                    "count": 2, "share": 2 / 3}


@pytest.mark.parametrize(
    ("durations", "events", "match"),
    [
        ([], None, "no durations"),
        ([1.0, -2.0], None, "negative"),
        ([1.0, np.nan], None, "NaN"),
        ([1.0, 2.0], [1, 0, 1], "event flags"),
        ([1.0, 2.0], [1, 2], "0/1"),
    ],
)
def test_bad_survival_input(durations, events, match) -> None:
    with pytest.raises(SurvivalInputError, match=match):
        kaplan_meier(durations, events)


def test_logrank_one_group_and_no_events() -> None:
    with pytest.raises(OneGroupError):
        logrank_test([1.0, 2.0, 3.0], None, ["a", "a", "a"])
    with pytest.raises(SurvivalInputError, match="no events"):
        logrank_test([1.0, 2.0], [0, 0], ["a", "b"])


def test_bad_tables() -> None:
    with pytest.raises(SurvivalInputError, match="no transactions"):
        cohort_retention(pd.DataFrame({"customer": [], "date": []}))
    with pytest.raises(SurvivalInputError, match="lack columns"):
        declining_accounts(pd.DataFrame({"customer": ["a"]}))
    with pytest.raises(SurvivalInputError, match="no defections"):
        defection_reasons(pd.DataFrame({"reason": []}))
    with pytest.raises(SurvivalInputError, match="lack columns: n"):
        defection_reasons(pd.DataFrame({"reason": ["price"]}), weight="n")
