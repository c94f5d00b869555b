"""Parameter recovery: 100k customers simulated from each model with known parameters are fitted
back to within three standard errors, and the model's E[X(t)] matches the simulated mean."""

from __future__ import annotations

import numpy as np
import pytest

from rapport.analytics.clv import PurchaseFit, fit_purchases, fit_spend, simulate
from rapport.analytics.clv.summary import check_summary

N = 100_000
# Staggered acquisition over a year and a half of weeks, as in a real customer base.
AGES = np.random.default_rng(2024).integers(13, 79, N).astype(float)
TRUTH = {
    "bgnbd": (simulate.bgnbd, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}),
    "mbgnbd": (simulate.mbgnbd, {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}),
    "pnbd": (simulate.pnbd, {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}),
}


@pytest.mark.parametrize("model", list(TRUTH))
def test_fit_recovers_simulated_parameters_within_three_standard_errors(model: str):
    # given 100k customers drawn from the model with known parameters
    draw, truth = TRUTH[model]
    data = draw(N, T=AGES, seed=7, **truth)
    # when fitted
    fit = fit_purchases(data, model)
    # then every parameter is within 3 standard errors of the truth, and the errors are small but not zero
    for name, value in truth.items():
        z = (fit.params[name] - value) / fit.standard_errors[name]
        assert abs(z) < 3, (name, fit.params[name], value, fit.standard_errors[name])
        assert 0 < fit.standard_errors[name] < 0.25 * value
    assert fit.n_customers == N
    assert fit.log_likelihood < 0


@pytest.mark.parametrize("model", list(TRUTH))
def test_unconditional_expectation_matches_the_simulated_mean(model: str):
    # given 50k customers all observed for 40 periods
    draw, truth = TRUTH[model]
    data = draw(50_000, T=40.0, seed=8, **truth)
    # when the model with the true parameters predicts E[X(40)]
    expected = PurchaseFit.from_params(model, truth).expected_purchases_new(40.0)
    # then it is within 4 standard errors of the mean simulated repeat purchases
    sem = data["frequency"].std() / np.sqrt(len(data))
    assert abs(float(expected) - data["frequency"].mean()) < 4 * sem


def test_p_alive_is_calibrated_against_the_hidden_truth():
    # given simulated customers whose alive state is known
    draw, truth = TRUTH["bgnbd"]
    data = draw(N, T=AGES, seed=9, **truth)
    fit = fit_purchases(data, "bgnbd")
    p = fit.p_alive(data["frequency"], data["recency"], data["T"])
    # then, in every decile of P(alive), the share truly alive is within 0.03 of the mean P(alive)
    deciles = np.quantile(p, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(deciles, p, side="right") - 1, 0, 9)
    for k in np.unique(bins):
        chosen = bins == k
        assert abs(data["alive"][chosen].mean() - p[chosen].mean()) < 0.03


def test_gamma_gamma_recovers_spend_parameters():
    # given repeat buyers with Gamma-Gamma spends
    data = simulate.bgnbd(N, T=AGES, seed=10, **TRUTH["bgnbd"][1])
    data["monetary_value"] = simulate.gamma_gamma_spend(data["frequency"], p=6.0, q=4.0, gamma=15.0, seed=11)
    # when fitted
    fit = fit_spend(data)
    # then within 3 standard errors, with no correlation warning (spend is independent of frequency here)
    for name, value in {"p": 6.0, "q": 4.0, "gamma": 15.0}.items():
        assert abs(fit.params[name] - value) < 3 * fit.standard_errors[name], (name, fit.params[name])
    assert abs(fit.correlation) < 0.05
    assert fit.warnings == ()
    assert fit.n_customers == int((data["frequency"] > 0).sum())


def test_simulation_is_seeded_and_valid():
    first = simulate.pnbd(1_000, r=0.5, alpha=5, s=0.5, beta=5, T=AGES[:1_000], seed=3)
    again = simulate.pnbd(1_000, r=0.5, alpha=5, s=0.5, beta=5, T=AGES[:1_000], seed=3)
    assert first.equals(again)
    check_summary(first)  # recency ≤ T, recency = 0 without repeat purchases
    discrete = simulate.discretize(first)
    check_summary(discrete)
    assert (discrete["T"] == np.round(discrete["T"])).all()
