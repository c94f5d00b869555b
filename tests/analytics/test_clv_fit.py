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
