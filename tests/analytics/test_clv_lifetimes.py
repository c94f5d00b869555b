"""Agreement with the lifetimes library (0.11.3) on CDNOW and on simulated data.

Log-likelihoods at each library's own optimum agree to 1e-6 relative; predictions (P(alive),
conditional and unconditional expected purchases, Gamma-Gamma spend, discounted CLV) computed from
the same parameters agree to 1e-4 relative; summaries of the same transactions are identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

from rapport.analytics.clv import discounted_clv, fit_purchases, fit_spend, simulate, summarize

from ._clv_data import cdnow_summary, cdnow_transactions

FITTERS = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter, "pnbd": ParetoNBDFitter}


def lifetimes_loglik(model: str, fitter, data: pd.DataFrame) -> float:
    """lifetimes' total log-likelihood at its fitted parameters, on the unscaled data."""
    params = fitter.params_.to_numpy()
    x, t_x, T = (data[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    if model == "pnbd":
        return float(ParetoNBDFitter._conditional_log_likelihood(params, x, t_x, T).sum())
    return float(-FITTERS[model]._negative_log_likelihood(np.log(params), x, t_x, T, np.ones(len(x)), 0.0) * len(x))


def simulated(model: str) -> pd.DataFrame:
    T = np.random.default_rng(11).integers(10, 60, 4_000).astype(float)
    if model == "pnbd":
        return simulate.pnbd(4_000, r=0.6, alpha=8.0, s=0.8, beta=10.0, T=T, seed=12)
    draw = simulate.bgnbd if model == "bgnbd" else simulate.mbgnbd
    return draw(4_000, r=0.4, alpha=5.0, a=0.7, b=2.0, T=T, seed=12)


def assert_close(ours, theirs, rtol: float = 1e-4) -> None:
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pnbd"])
@pytest.mark.parametrize("source", ["cdnow", "simulated"])
def test_purchase_models_agree_with_lifetimes(model: str, source: str):
    # given the same summary
    data = cdnow_summary() if source == "cdnow" else simulated(model)
    f, r, T = data["frequency"], data["recency"], data["T"]
    # when both libraries fit it
    ours = fit_purchases(data, model)
    theirs = FITTERS[model]().fit(f, r, T)
    # then the maximised log-likelihoods agree, ours is at least as high, and ours is what our model says
    reference = lifetimes_loglik(model, theirs, data)
    assert ours.log_likelihood == pytest.approx(reference, rel=1e-6)
    assert ours.log_likelihood >= reference - 1e-6 * abs(reference)
    assert ours.loglik(f, r, T) == pytest.approx(ours.log_likelihood, rel=1e-12)
    if model != "pnbd":  # lifetimes has standard errors (autograd's Hessian) for the BG models only
        for name, se in theirs.standard_errors_.items():
            assert ours.standard_errors[name] == pytest.approx(se, rel=2e-3), name
    # and with our parameters in lifetimes, every prediction agrees
    theirs.params_ = pd.Series(ours.params)
    assert_close(ours.p_alive(f, r, T), theirs.conditional_probability_alive(f, r, T))
    for t in (1.0, 13.0, 52.0):
        assert_close(ours.expected_purchases(t, f, r, T),
                     theirs.conditional_expected_number_of_purchases_up_to_time(t, f, r, T))
    ages = np.array([1.0, 10.0, 39.0, 78.0])
    assert_close(ours.expected_purchases_new(ages), theirs.expected_number_of_purchases_up_to_time(ages))


def test_cdnow_bgnbd_matches_the_published_estimates():
    # Fader, Hardie & Lee (2005), table 1: r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4
    fit = fit_purchases(cdnow_summary(), "bgnbd")
    assert [round(fit.params[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert round(fit.log_likelihood, 1) == -9582.4


def test_gamma_gamma_and_clv_agree_with_lifetimes():
    # given CDNOW's repeat buyers and a BG/NBD fit
    data = cdnow_summary()
    f, r, T, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]
    purchases = fit_purchases(data, "bgnbd")
    spend = fit_spend(data)
    repeat = data[f > 0]
    theirs = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    # then the spend log-likelihoods agree at each optimum
    their_ll = -GammaGammaFitter._negative_log_likelihood(
        np.log(theirs.params_.to_numpy()), repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy(),
        np.ones(len(repeat)), 0.0) * len(repeat)
    assert spend.log_likelihood == pytest.approx(their_ll, rel=1e-6)
    # and, from the same parameters, the expected spend and the 12-month CLV at 1% a month agree
    theirs.params_ = pd.Series({"p": spend.params["p"], "q": spend.params["q"], "v": spend.params["gamma"]})
    bg = BetaGeoFitter()
    bg.params_ = pd.Series(purchases.params)
    bg.predict = bg.conditional_expected_number_of_purchases_up_to_time
    assert_close(spend.expected_spend(f, m), theirs.conditional_expected_average_profit(f, m))
    their_clv = theirs.customer_lifetime_value(bg, f, r, T, m, time=12, discount_rate=0.01, freq="W")
    ours = discounted_clv(purchases, spend.expected_spend(f, m), f, r, T, months=12, discount_rate=0.01,
                          periods_per_month=4.345)
    assert_close(ours, their_clv)
    assert spend.params["p"] == pytest.approx(6.25, abs=0.01)  # the published CDNOW values: 6.25, 3.74, 15.44
    assert spend.params["q"] == pytest.approx(3.74, abs=0.01)
    assert spend.params["gamma"] == pytest.approx(15.44, abs=0.01)


@pytest.mark.parametrize(("period", "freq"), [("day", "D"), ("week", "W")])
def test_summaries_of_transactions_equal_lifetimes(period: str, freq: str):
    tx = cdnow_transactions()
    tx = tx[tx["amount"] > 0]
    theirs = summary_data_from_transaction_data(tx, "customer", "date", "amount", freq=freq,
                                                observation_period_end="1998-06-30")
    ours = summarize(tx, customer="customer", date="date", amount="amount", period=period,
                     observation_end="1998-06-30", today="2026-01-01").frame
    assert list(ours.index) == list(theirs.index)
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[column].to_numpy(), theirs[column].to_numpy(), rtol=1e-12)


def test_calibration_split_equals_lifetimes():
    tx = cdnow_transactions()
    tx = tx[tx["amount"] > 0]
    theirs = calibration_and_holdout_data(tx, "customer", "date", calibration_period_end="1997-09-30",
                                          observation_period_end="1998-06-30", freq="W",
                                          monetary_value_col="amount")
    ours = summarize(tx, customer="customer", date="date", amount="amount", period="week", calibration_end="1997-09-30",
                     observation_end="1998-06-30", today="2026-01-01").frame
    assert list(ours.index) == list(theirs.index)
    for mine, their in [("frequency", "frequency_cal"), ("recency", "recency_cal"), ("T", "T_cal"),
                        ("monetary_value", "monetary_value_cal"), ("frequency_holdout", "frequency_holdout"),
                        ("duration_holdout", "duration_holdout")]:
        np.testing.assert_allclose(ours[mine].to_numpy(), theirs[their].to_numpy(), rtol=1e-12)
