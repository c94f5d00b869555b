"""Subscription CLV, life tables, and the calibration and tracking tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rapport.analytics.clv import (
    calibration_table,
    fit_purchases,
    life_table,
    retention_from_hazard,
    subscription_clv,
    summarize,
    tracking_series,
)
from rapport.analytics.clv.summary import period_number

from ._clv_data import cdnow_transactions


def test_constant_churn_subscription_clv_is_the_geometric_sum():
    # given 5% monthly churn, a margin of 20 a month and 1% monthly discount, over 600 months
    retention = retention_from_hazard([0.05], horizon=600)
    value = subscription_clv(20.0, retention, discount_rate=0.01, horizon=600)
    # then CLV = m · (1 + d) / (d + h) — the closed form of Σ ((1 − h)/(1 + d))^j
    assert value[0] == pytest.approx(20.0 * 1.01 / (0.01 + 0.05), rel=1e-9)


def test_subscription_clv_conditions_on_tenure():
    # given a falling hazard (new subscribers churn most)
    retention = retention_from_hazard([0.3, 0.2, 0.1, 0.05], horizon=120)
    values = subscription_clv(10.0, retention, tenure=np.array([0, 3]), horizon=100)
    # then a subscriber who has stayed three periods is worth more than a new one
    assert values[1] > values[0]
    # and a new one's first payment is certain: CLV ≥ margin
    assert values[0] >= 10.0
    with pytest.raises(ValueError, match="retention must start at 1"):
        subscription_clv(10.0, [0.9, 0.8])


def test_life_table_counts_churners_over_those_at_risk():
    # given durations 1, 1 (churned), 2 (censored), 3 (churned)
    table = life_table([1, 1, 2, 3], [True, True, False, True])
    assert table["at_risk"].tolist() == [4, 4, 2, 1]
    assert table["churned"].tolist() == [0, 2, 0, 1]
    assert table["hazard"].tolist() == [0.0, 0.5, 0.0, 1.0]


def test_life_table_to_retention_to_clv_recovers_a_known_churn_rate():
    # given 50k subscribers who leave after each period with probability 0.1, observed for at most 24 periods
    rng = np.random.default_rng(3)
    duration = rng.geometric(0.1, 50_000)
    churned = duration <= 24
    duration = np.minimum(duration, 24)
    # when the life table's hazards become a retention curve and a CLV
    table = life_table(duration, churned)
    retention = retention_from_hazard(table["hazard"].iloc[1:], horizon=600)
    value = subscription_clv(20.0, retention, discount_rate=0.01, horizon=600)[0]
    # then the hazards are 0.1 (within sampling error) and the CLV is the closed form's within 2%
    assert np.allclose(table["hazard"].iloc[1:24], 0.1, atol=0.015)
    assert value == pytest.approx(20.0 * 1.01 / (0.01 + 0.1), rel=0.02)


def cdnow_split():
    tx = cdnow_transactions()
    tx = tx[tx["amount"] > 0]
    return summarize(tx, customer="customer", date="date", period="week", calibration_end="1997-09-30",
                     observation_end="1998-06-30", today="2026-01-01")


def test_calibration_table_predicts_the_cdnow_holdout():
    # given the classic CDNOW split (39 weeks calibration, 39 weeks holdout) and a BG/NBD fit
    split = cdnow_split()
    fit = fit_purchases(split.frame, "bgnbd")
    table = calibration_table(fit, split.frame)
    # then there is one row per calibration frequency 0..6 and 7+, covering every customer
    assert table["label"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == len(split.frame)
    # and the predicted holdout purchases track the actual ones (total within 10%, increasing in frequency)
    total_actual = (table["actual"] * table["customers"]).sum()
    total_predicted = (table["predicted"] * table["customers"]).sum()
    assert abs(total_predicted / total_actual - 1) < 0.10
    assert np.all(np.diff(table["predicted"].to_numpy()) > 0)


def test_tracking_series_is_cumulative_and_follows_the_actual_repeat_sales():
    split = cdnow_split()
    fit = fit_purchases(split.frame, "bgnbd")
    series = tracking_series(fit, split.first_period, split.repeat_periods, int(split.first_period.min()),
                             split.end_period)
    assert np.all(np.diff(series["actual"]) >= 0) and np.all(np.diff(series["expected"]) >= 0)
    # at the end of calibration the model has seen the data; at the end of the holdout it forecasts within 15%
    calibration_week = int(period_number(pd.Series([pd.Timestamp("1997-09-30")]), "week")[0])
    assert series["actual"].iloc[-1] == len(split.repeat_periods)
    at_cal = series.set_index("period").loc[calibration_week]
    assert abs(at_cal["expected"] / at_cal["actual"] - 1) < 0.05
    last = series.iloc[-1]
    assert abs(last["expected"] / last["actual"] - 1) < 0.15
