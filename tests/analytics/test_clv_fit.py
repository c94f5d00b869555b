"""The fitting machinery: pattern compression is exact, and weighting by pattern counts changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from rapport.analytics.clv import fit_purchases, simulate
from rapport.analytics.clv._fit import compress


@pytest.mark.parametrize("whole_periods", [True, False])
def test_compress_finds_each_distinct_history_once_and_maps_every_customer_back(whole_periods: bool):
    data = simulate.pnbd(20_000, r=0.5, alpha=5, s=0.5, beta=5, T=np.arange(1, 20_001) % 30 + 1.0, seed=1)
    if whole_periods:
        data = simulate.discretize(data)
    x, t_x, T = (data[c].to_numpy() for c in ("frequency", "recency", "T"))
    patterns = compress(x, t_x, T)
    expected = np.unique(np.column_stack([x, t_x, T]), axis=0)
    assert len(patterns.x) == len(expected)
    assert patterns.weight.sum() == len(x)
    np.testing.assert_array_equal(patterns.x[patterns.inverse], x)
    np.testing.assert_array_equal(patterns.t_x[patterns.inverse], t_x)
    np.testing.assert_array_equal(patterns.T[patterns.inverse], T)
    if whole_periods:
        assert len(patterns.x) < len(x) / 5


def test_duplicated_customers_double_the_log_likelihood_and_keep_the_estimates():
    data = simulate.discretize(simulate.bgnbd(5_000, r=0.3, alpha=4, a=0.8, b=2.5, T=40.0, seed=2))
    once = fit_purchases(data, "bgnbd")
    twice = fit_purchases(data.loc[data.index.repeat(2)], "bgnbd")
    assert twice.log_likelihood == pytest.approx(2 * once.log_likelihood, rel=1e-9)
    for name in once.params:
        assert twice.params[name] == pytest.approx(once.params[name], rel=1e-5)
        assert twice.standard_errors[name] == pytest.approx(once.standard_errors[name] / np.sqrt(2), rel=1e-3)


def test_score_per_distinct_history_equals_scoring_every_customer():
    from rapport.analytics.clv import discounted_clv, fit_spend, score

    data = simulate.discretize(simulate.bgnbd(20_000, r=0.3, alpha=4, a=0.8, b=2.5, T=np.arange(20_000) % 52 + 1.0,
                                              seed=5))
    data["monetary_value"] = simulate.gamma_gamma_spend(data["frequency"], p=6, q=4, gamma=15, seed=6)
    purchases, spend = fit_purchases(data, "pnbd"), fit_spend(data)
    scores = score(purchases, spend, data, horizon=26, months=6, discount_rate=0.02, periods_per_month=4.345)
    f, r, T, m = (data[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    np.testing.assert_allclose(scores["p_alive"], purchases.p_alive(f, r, T), rtol=1e-12)
    np.testing.assert_allclose(scores["expected_purchases"], purchases.expected_purchases(26, f, r, T), rtol=1e-12)
    # CLV by hand: six monthly steps of 4.345 weeks, each discounted at 2% a month
    steps = [purchases.expected_purchases(k * 4.345, f, r, T) for k in range(7)]
    by_hand = sum(spend.expected_spend(f, m) * (steps[k] - steps[k - 1]) / 1.02**k for k in range(1, 7))
    np.testing.assert_allclose(scores["clv"], by_hand, rtol=1e-10)
    np.testing.assert_allclose(discounted_clv(purchases, spend.expected_spend(f, m), f, r, T, months=6,
                                              discount_rate=0.02, periods_per_month=4.345), by_hand, rtol=1e-10)
