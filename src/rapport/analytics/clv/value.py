"""Customer lifetime value: discounted expected margin, for buying and for subscriptions.

**Non-contractual buying** (``discounted_clv``). Convention, the one of Fader, Hardie & Lee
(2005, "RFM and CLV") in the discrete form the lifetimes library uses, so the two agree: time
is cut into ``months`` steps of ``periods_per_month`` model periods; the purchases expected in
step k are ``E[Y(k·f)] − E[Y((k−1)·f)]`` (the conditional expectation given the customer's
history, f = periods per month), each worth the customer's expected spend (Gamma-Gamma), and
step k is discounted by ``(1 + discount_rate)^k`` — so ``discount_rate`` is per month and the
first month is already discounted once::

    CLV = Σ_{k=1..months} spend · (E[Y(k f)] − E[Y((k−1) f)]) / (1 + d)^k

Multiply ``spend`` by a margin first if CLV should be profit rather than revenue.

**Subscriptions** (``subscription_clv``). With per-period retention ``S(j)`` (the probability of
still subscribing j periods after the start; S(0) = 1), a margin per period paid at the start
of every period survived, and a per-period discount rate d, a subscriber who has already paid
for ``tenure`` periods is worth

    CLV = margin · Σ_{j=0..horizon−1} [S(tenure + j) / S(tenure)] / (1 + d)^j

(the next payment undiscounted; the sum is truncated at ``horizon``). ``retention_from_hazard``
turns per-period churn hazards h(j) (probability of leaving at the end of period j given active
through it) into S; beyond the last given hazard the last one is carried forward. ``life_table``
estimates the hazards from observed durations with censoring (the actuarial / Kaplan–Meier
estimate for discrete periods: churners at j over those at risk at j). A subscriber with duration
D has made D payments, so S(j) = P(D > j | D ≥ 1) and the curve of a life table is
``retention_from_hazard(table["hazard"].iloc[1:], horizon)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._fit import compress


def discounted_clv(purchases: Any, spend: np.ndarray, frequency: Any, recency: Any, T: Any, *,
                   months: int = 12, discount_rate: float = 0.01, periods_per_month: float = 1.0) -> np.ndarray:
    """``purchases`` is a fitted :class:`.model.PurchaseFit`; ``spend`` the expected spend per purchase."""
    if months < 1:
        raise ValueError(f"months must be ≥ 1, not {months}.")
    if discount_rate <= -1:
        raise ValueError(f"discount_rate must be > -1, not {discount_rate}.")
    return np.asarray(spend, dtype=float) * discounted_purchases(
        purchases, frequency, recency, T, months=months, discount_rate=discount_rate,
        periods_per_month=periods_per_month)


def discounted_purchases(purchases: Any, frequency: Any, recency: Any, T: Any, *, months: int = 12,
                         discount_rate: float = 0.01, periods_per_month: float = 1.0) -> np.ndarray:
    """Σ_k (E[Y(k f)] − E[Y((k−1) f)]) / (1 + d)^k per customer: CLV per unit of spend. Computed once
    per distinct (frequency, recency, T) history and spread back to the customers."""
    patterns = compress(frequency, recency, T)
    total = np.zeros(len(patterns.x))
    previous = np.zeros_like(total)
    for k in range(1, months + 1):
        current = purchases.expected_purchases(k * periods_per_month, patterns.x, patterns.t_x, patterns.T)
        total += (current - previous) / (1 + discount_rate) ** k
        previous = current
    return total[patterns.inverse]


def retention_from_hazard(hazard: Any, horizon: int) -> np.ndarray:
    """S(0..horizon) from per-period hazards (the last hazard carried forward)."""
    h = np.asarray(hazard, dtype=float).ravel()
    if h.size == 0 or np.any((h < 0) | (h > 1)) or not np.all(np.isfinite(h)):
        raise ValueError("Hazards must be probabilities in [0, 1].")
    h = np.concatenate([h, np.full(max(horizon - h.size, 0), h[-1])])[:horizon]
    return np.concatenate([[1.0], np.cumprod(1 - h)])


def life_table(duration: Any, churned: Any) -> pd.DataFrame:
    """Per-period ``at_risk``, ``churned`` and ``hazard`` from whole-period durations.

    ``duration[i]`` is how many periods subscriber i was active; ``churned[i]`` whether they left
    at its end (False: still active, censored).
    """
    d = np.asarray(duration, dtype=float)
    c = np.asarray(churned, dtype=bool)
    if d.size == 0 or np.any(d < 0) or np.any(d != np.round(d)):
        raise ValueError("Durations must be whole numbers of periods ≥ 0.")
    d = d.astype(int)
    top = int(d.max()) + 1
    ended = np.bincount(d, minlength=top)
    churn = np.bincount(d[c], minlength=top)
    at_risk = ended[::-1].cumsum()[::-1]  # active at the start of period j: those with duration ≥ j
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(at_risk > 0, churn / at_risk, np.nan)
    return pd.DataFrame({"period": np.arange(top), "at_risk": at_risk, "churned": churn, "hazard": hazard})


def subscription_clv(margin: Any, retention: Any, *, tenure: Any = 0, discount_rate: float = 0.0,
                     horizon: int | None = None) -> np.ndarray:
    """Expected discounted margin of subscribers; ``retention`` is S(0), S(1), ... with S(0) = 1."""
    s = np.asarray(retention, dtype=float).ravel()
    if s.size < 2 or abs(s[0] - 1) > 1e-12 or np.any(np.diff(s) > 1e-12) or np.any(s < 0):
        raise ValueError("retention must start at 1 and never increase.")
    k = np.atleast_1d(np.asarray(tenure, dtype=int))
    if np.any(k < 0) or np.any(k >= s.size):
        raise ValueError(f"tenure must be in 0..{s.size - 1} (the retention curve's length).")
    n = s.size - int(k.max()) if horizon is None else horizon
    if n < 1 or np.any(k + n > s.size):
        raise ValueError("The retention curve is too short for this tenure and horizon.")
    steps = np.arange(n)
    factors = (1 + discount_rate) ** -steps
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = s[k[:, None] + steps[None, :]] / s[k][:, None]
    ratio = np.nan_to_num(ratio)
    value = np.asarray(margin, dtype=float) * (ratio * factors).sum(axis=1)
    return value  # one value per tenure given (a scalar tenure gives one)
