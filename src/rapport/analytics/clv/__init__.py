"""Customer lifetime value for non-contractual buying and for subscriptions.

    from rapport.analytics.clv import summarize, fit_purchases, fit_spend, discounted_clv
    s = summarize(transactions, customer="id", date="when", amount="total", period="week")
    purchases = fit_purchases(s.frame, model="bgnbd")        # or "pnbd", "mbgnbd"
    spend = fit_spend(s.frame)                               # Gamma-Gamma; .correlation, .warnings
    alive = purchases.p_alive(f, r, T); next_year = purchases.expected_purchases(52, f, r, T)
    clv = discounted_clv(purchases, spend.expected_spend(f, m), f, r, T, months=12,
                         discount_rate=0.01, periods_per_month=4.345)
    score(purchases, spend, s.frame, horizon=52)             # all of it as one frame

One module per piece: :mod:`.summary` (transactions → frequency/recency/T/monetary value, and the
checks), :mod:`.bgnbd` (BG/NBD and MBG/NBD), :mod:`.pnbd` (Pareto/NBD), :mod:`._fit` (weighted
maximum likelihood on distinct patterns, standard errors), :mod:`.model` (the fitted purchase
model), :mod:`.gamma_gamma` (spend), :mod:`.value` (discounted and subscription CLV),
:mod:`.diagnostics` (calibration and tracking tables), :mod:`.simulate` (data with known
parameters). Results are frozen dataclasses; errors are ValueError subclasses
(:mod:`.errors`). Nothing here imports Django or another part of Rapport.
"""

from __future__ import annotations

import pandas as pd

from ._fit import FitError, compress
from .diagnostics import calibration_table, tracking_series
from .errors import ClvInputError, NoRepeatPurchasesError, SummaryError, TransactionsError
from .gamma_gamma import SpendFit, fit_spend
from .model import MODELS, PurchaseFit, fit_purchases
from .summary import PERIODS, PERIODS_PER_MONTH, Summary, check_summary, summarize
from .value import discounted_clv, discounted_purchases, life_table, retention_from_hazard, subscription_clv

__all__ = [
    "MODELS", "PERIODS", "PERIODS_PER_MONTH", "ClvInputError", "FitError", "NoRepeatPurchasesError", "PurchaseFit",
    "SpendFit", "Summary", "SummaryError", "TransactionsError", "calibration_table", "check_summary",
    "discounted_clv", "discounted_purchases", "fit_purchases", "fit_spend", "life_table", "retention_from_hazard",
    "score", "subscription_clv", "summarize", "tracking_series",
]


def score(purchases: PurchaseFit, spend: SpendFit | None, summary: pd.DataFrame, *, horizon: float,
          months: int = 12, discount_rate: float = 0.01, periods_per_month: float = 1.0) -> pd.DataFrame:
    """Per customer: ``p_alive``, ``expected_purchases`` over ``horizon`` periods and, with a spend
    model, ``expected_spend`` and ``clv`` (see :func:`.value.discounted_clv` for the convention)."""
    f, r, T = check_summary(summary)
    # Every purchase prediction depends on (frequency, recency, T) only: compute it once per distinct
    # history (tens of thousands for a million period-rounded customers) and spread it back.
    patterns = compress(f, r, T)
    x, t_x, age, back = patterns.x, patterns.t_x, patterns.T, patterns.inverse
    out = pd.DataFrame(index=summary.index)
    out["p_alive"] = purchases.p_alive(x, t_x, age)[back]
    out["expected_purchases"] = purchases.expected_purchases(horizon, x, t_x, age)[back]
    if spend is not None:
        m = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(dtype=float)
        out["expected_spend"] = spend.expected_spend(f, m)
        per_unit = discounted_purchases(purchases, x, t_x, age, months=months, discount_rate=discount_rate,
                                        periods_per_month=periods_per_month)[back]
        out["clv"] = out["expected_spend"].to_numpy() * per_unit
    return out
