"""Gamma-Gamma model of spend per transaction, fitted on repeat buyers.

Sources: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", *Journal of Marketing Research* 42(4); Fader & Hardie (2013), "The Gamma-Gamma Model
of Monetary Value" (note). A customer's transaction values are Gamma(``p``, ν) with ν ~
Gamma(``q``, ``gamma``), so the mean m of x transactions has the log-likelihood

    ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ + m x)

and the expected spend given (x, m) is ``(γ + m x) p / (p x + q − 1)``: a weighted mean of the
population mean ``p γ / (q − 1)`` and the customer's own mean. Customers with x = 0 get the
population mean.

The model assumes spend is independent of purchase frequency; ``fit_spend`` reports the Pearson
correlation of frequency and mean spend among repeat buyers and adds a warning above
``correlation_warn_at`` (default 0.3). Invariant: only repeat buyers enter the fit (the first
purchase's amount is not in ``monetary_value``); a set with none raises NoRepeatPurchasesError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import digamma, gammaln

from ._fit import FitError, maximise
from .errors import NoRepeatPurchasesError, SummaryError
from .summary import check_summary

NAMES = ("p", "q", "gamma")


def loglik(theta: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    p, q, g = theta
    px = p * x
    return float(np.sum(gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1) * np.log(m)
                        + px * np.log(x) - (px + q) * np.log(g + m * x)))


def gradient(theta: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, g = theta
    px = p * x
    log_gmx = np.log(g + m * x)
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - log_gmx)
    d_q = digamma(px + q) - digamma(q) + np.log(g) - log_gmx
    d_g = q / g - (px + q) / (g + m * x)
    return np.array([d_p.sum(), d_q.sum(), d_g.sum()])


@dataclass(frozen=True)
class SpendFit:
    params: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood: float
    n_customers: int  # repeat buyers fitted
    correlation: float  # Pearson, frequency vs mean spend, among repeat buyers
    warnings: tuple[str, ...] = ()
    covariance: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def expected_spend(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        p, q, g = (self.params[n] for n in NAMES)
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        return np.where(x > 0, (g + m * x) * p / (p * x + q - 1), p * g / (q - 1))

    @property
    def population_mean(self) -> float:
        p, q, g = (self.params[n] for n in NAMES)
        return p * g / (q - 1) if q > 1 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {"model": "gamma_gamma", "params": dict(self.params), "standard_errors": dict(self.standard_errors),
                "log_likelihood": self.log_likelihood, "n_customers": self.n_customers,
                "frequency_spend_correlation": self.correlation, "warnings": list(self.warnings)}


def fit_spend(summary: Any, *, correlation_warn_at: float = 0.3) -> SpendFit:
    frequency, _, _, monetary = check_summary(summary, monetary=True)
    repeat = frequency > 0
    if not repeat.any():
        raise NoRepeatPurchasesError("No customer made a repeat purchase, so there is no repeat spend to fit "
                                     "the Gamma-Gamma model to.")
    x, m = frequency[repeat], monetary[repeat]
    if len(x) < 3:
        raise SummaryError(f"Only {len(x)} customer(s) made a repeat purchase; the Gamma-Gamma model needs more.")
    correlation = float(np.corrcoef(x, m)[0, 1]) if np.std(x) > 0 and np.std(m) > 0 else 0.0
    notes = []
    if abs(correlation) > correlation_warn_at:
        notes.append(f"Purchase frequency and mean spend are correlated (Pearson {correlation:.2f}, above "
                     f"{correlation_warn_at}); the Gamma-Gamma model assumes they are independent, so its spend "
                     "predictions are biased for these data.")
    scale = float(np.mean(m))  # fit in units of the mean spend; gamma scales back linearly

    def ll(theta: np.ndarray) -> float:
        return loglik(theta, x, m / scale)

    def grad(theta: np.ndarray) -> np.ndarray:
        return gradient(theta, x, m / scale)

    optimum = maximise(ll, grad, np.ones(3), float(len(x)))
    if not optimum.converged:
        raise FitError("The Gamma-Gamma fit did not converge.")
    theta, se, cov = optimum.params.copy(), optimum.standard_errors.copy(), optimum.covariance.copy()
    theta[2] *= scale
    se[2] *= scale
    cov[2, :] *= scale
    cov[:, 2] *= scale
    return SpendFit(params=dict(zip(NAMES, theta.tolist(), strict=True)),
                    standard_errors=dict(zip(NAMES, se.tolist(), strict=True)),
                    log_likelihood=loglik(theta, x, m), n_customers=int(len(x)), correlation=correlation,
                    warnings=tuple(notes), covariance=cov)
