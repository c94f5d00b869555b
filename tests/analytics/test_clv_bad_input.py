"""Every kind of bad input to the CLV summaries and fits: a clear error naming the rows, or the
documented handling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rapport.analytics.clv import (
    NoRepeatPurchasesError,
    SummaryError,
    TransactionsError,
    fit_purchases,
    fit_spend,
    simulate,
    summarize,
)

TODAY = "2025-06-30"


def transactions() -> pd.DataFrame:
    return pd.DataFrame({
        "who": ["a", "a", "a", "b", "c", "c", "a"],
        "when": ["2025-01-06", "2025-01-07", "2025-02-03", "2025-01-20", "2025-03-03", "2025-05-05", "2025-04-07"],
        "paid": [10.0, 5.0, 20.0, 7.0, 3.0, 4.0, 30.0],
    })


def test_summary_collapses_same_period_purchases_and_means_repeat_spend():
    # given a customer with two purchases in one Monday–Sunday week, then two more weeks with purchases
    result = summarize(transactions(), customer="who", date="when", amount="paid", period="week",
                       observation_end="2025-06-30", today=TODAY)
    a = result.frame.loc["a"]
    # then the first week counts once (amounts summed), and monetary value is the mean of the repeat weeks
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (2.0, 13.0, 25.0, 25.0)
    b = result.frame.loc["b"]  # a customer with one purchase: no repeat, recency 0, spend 0
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0.0, 0.0, 23.0, 0.0)


def test_unsorted_rows_give_the_same_summary():
    tx = transactions()
    shuffled = tx.sample(frac=1.0, random_state=3)
    first = summarize(tx, customer="who", date="when", amount="paid", today=TODAY).frame
    second = summarize(shuffled, customer="who", date="when", amount="paid", today=TODAY).frame
    pd.testing.assert_frame_equal(first, second)


def test_months_and_days_are_whole_periods():
    tx = transactions()
    months = summarize(tx, customer="who", date="when", period="month", observation_end="2025-06-30", today=TODAY)
    assert months.frame.loc["a"].tolist() == [2.0, 3.0, 5.0]  # January (twice), February, April; June ends it
    days = summarize(tx, customer="who", date="when", period="day", observation_end="2025-06-30", today=TODAY)
    assert days.frame.loc["c"].tolist() == [1.0, 63.0, 119.0]


@pytest.mark.parametrize("amount", [0.0, -5.0])
def test_zero_or_negative_amounts_are_an_error_naming_rows_or_dropped_on_request(amount: float):
    tx = transactions()
    tx.loc[4, "paid"] = amount
    with pytest.raises(TransactionsError, match=r"1 row\(s\) have a zero or negative paid .*rows 5\b"):
        summarize(tx, customer="who", date="when", amount="paid", today=TODAY)
    dropped = summarize(tx, customer="who", date="when", amount="paid", today=TODAY, nonpositive="drop")
    assert dropped.dropped_nonpositive == 1
    assert dropped.frame.loc["c", "frequency"] == 0.0  # c's first purchase was the dropped one


def test_future_dates_are_an_error_and_dates_after_observation_end_are_left_out():
    tx = transactions()
    tx.loc[2, "when"] = "2031-01-01"
    with pytest.raises(TransactionsError, match=r"dated in the future .*rows 3\b"):
        summarize(tx, customer="who", date="when", today=TODAY)
    later = transactions()
    result = summarize(later, customer="who", date="when", observation_end="2025-04-01", today=TODAY)
    assert result.dropped_after_end == 2  # a's April purchase and c's May purchase
    assert result.frame.loc["a", "frequency"] == 1.0


def test_unreadable_dates_amounts_missing_ids_and_columns_name_the_rows():
    tx = transactions()
    tx.loc[1, "when"] = "not a date"
    with pytest.raises(TransactionsError, match=r"no readable when: rows 2\b"):
        summarize(tx, customer="who", date="when", today=TODAY)
    tx = transactions().astype({"paid": object})
    tx.loc[6, "paid"] = "ten"
    with pytest.raises(TransactionsError, match=r"no numeric paid: rows 7\b"):
        summarize(tx, customer="who", date="when", amount="paid", today=TODAY)
    tx = transactions()
    tx.loc[0, "who"] = None
    with pytest.raises(TransactionsError, match=r"have no who: rows 1\b"):
        summarize(tx, customer="who", date="when", today=TODAY)
    with pytest.raises(TransactionsError, match=r"No column 'amount'; the columns are: who, when, paid"):
        summarize(transactions(), customer="who", date="when", amount="amount", today=TODAY)
    with pytest.raises(TransactionsError, match="period must be one of day, week, month"):
        summarize(transactions(), customer="who", date="when", period="year", today=TODAY)


def test_calibration_end_must_be_inside_the_observation():
    with pytest.raises(TransactionsError, match="must be before the end of observation"):
        summarize(transactions(), customer="who", date="when", calibration_end="2025-09-01", today=TODAY)
    with pytest.raises(TransactionsError, match="No purchase is on or before calibration_end"):
        summarize(transactions(), customer="who", date="when", calibration_end="2024-01-01", today=TODAY)


def test_summary_with_recency_above_T_and_other_impossible_rows_is_refused():
    good = pd.DataFrame({"frequency": [2, 0, 1], "recency": [5.0, 0.0, 3.0], "T": [10.0, 4.0, 8.0]})
    cases = [
        ({"recency": [5.0, 0.0, 9.0]}, r"recency must not exceed T.*rows 3\b"),
        ({"recency": [5.0, 2.0, 3.0]}, r"recency must be 0 when frequency is 0.*rows 2\b"),
        ({"frequency": [2.5, 0, 1]}, r"frequency must be a whole number.*rows 1\b"),
        ({"T": [10.0, -1.0, 8.0]}, r"T must be ≥ 0.*rows 2\b"),
        ({"recency": [5.0, np.nan, 3.0]}, r"recency is missing or not a number .*rows 2\b"),
    ]
    for change, message in cases:
        with pytest.raises(SummaryError, match=message):
            fit_purchases(good.assign(**change), "bgnbd")
    with pytest.raises(SummaryError, match="no column T"):
        fit_purchases(good.drop(columns="T"), "bgnbd")


def test_all_customers_with_one_purchase_is_refused_not_fitted():
    # given nobody who bought twice
    single = pd.DataFrame({"frequency": [0.0] * 50, "recency": [0.0] * 50, "T": np.linspace(1, 50, 50),
                           "monetary_value": [0.0] * 50})
    for model in ("bgnbd", "pnbd", "mbgnbd"):
        with pytest.raises(NoRepeatPurchasesError, match="None of the 50 customers made a repeat purchase"):
            fit_purchases(single, model)
    with pytest.raises(NoRepeatPurchasesError, match="no repeat spend"):
        fit_spend(single)


def test_a_customer_with_one_purchase_is_scored_by_the_documented_rules():
    # given a fitted BG/NBD and a spend model
    data = simulate.bgnbd(5_000, r=0.3, alpha=4, a=0.8, b=2.5, T=30.0, seed=1)
    data["monetary_value"] = simulate.gamma_gamma_spend(data["frequency"], p=6, q=4, gamma=15, seed=2)
    bg, spend = fit_purchases(data, "bgnbd"), fit_spend(data)
    # then a one-purchase customer is alive for BG/NBD, may be gone for MBG/NBD, and spends the population mean
    assert bg.p_alive([0], [0], [30.0])[0] == 1.0
    assert fit_purchases(data, "mbgnbd").p_alive([0], [0], [30.0])[0] < 1.0
    assert spend.expected_spend([0], [0.0])[0] == pytest.approx(spend.population_mean)


def test_non_positive_spend_of_a_repeat_buyer_is_refused_by_the_spend_model():
    data = pd.DataFrame({"frequency": [1.0, 2.0, 3.0], "recency": [1.0, 2.0, 3.0], "T": [4.0, 4.0, 4.0],
                         "monetary_value": [10.0, -1.0, 5.0]})
    with pytest.raises(SummaryError, match=r"monetary_value must be > 0 .*rows 2\b"):
        fit_spend(data)


def test_correlated_spend_and_frequency_is_reported_with_a_warning():
    data = simulate.bgnbd(20_000, r=0.5, alpha=4, a=0.8, b=2.5, T=52.0, seed=4)
    data["monetary_value"] = np.where(data["frequency"] > 0, 5.0 + 3.0 * data["frequency"], 0.0)
    data["monetary_value"] *= np.random.default_rng(5).gamma(20, 1 / 20, len(data))
    fit = fit_spend(data)
    assert fit.correlation > 0.5
    assert len(fit.warnings) == 1 and "correlated" in fit.warnings[0]


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="Unknown model 'bg'"):
        fit_purchases(pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]}), "bg")
