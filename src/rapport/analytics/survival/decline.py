"""Declining accounts: customers whose recent spend has fallen against their own history.

Rule (documented for the account managers who read the list): spend is summed per period
(month by default). A customer's *baseline* is their mean spend over the ``baseline_periods`` before
the last ``recent_periods``; their *recent* level is the mean over the last ``recent_periods``
(periods with no purchase count as 0). A customer is declining when

* they have at least ``min_history`` non-zero baseline periods (so one-off buyers are not flagged),
* recent spend is at least ``min_drop`` (a share, default 30%) below baseline, and
* the drop is significant: a one-sided Welch t-test of baseline periods against recent periods
  gives p < ``alpha``; with zero baseline variance the test is replaced by the drop rule alone.

The list is ranked by the absolute fall in spend per period, largest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from rapport.analytics.survival.errors import SurvivalInputError


@dataclass(frozen=True)
class DecliningAccount:
    customer: object
    baseline: float
    recent: float
    drop: float
    drop_share: float
    p_value: float


def declining_accounts(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer",
    date: str = "date",
    amount: str = "amount",
    period: str = "month",
    recent_periods: int = 3,
    baseline_periods: int = 12,
    min_history: int = 3,
    min_drop: float = 0.3,
    alpha: float = 0.05,
    as_of: object | None = None,
) -> list[DecliningAccount]:
    """Ranked decliners (largest fall in spend per period first); see the module docstring for the rule."""
    freq = {"month": "M", "week": "W"}.get(period)
    if freq is None:
        raise SurvivalInputError(f"period must be 'month' or 'week', got {period!r}")
    if recent_periods < 1 or baseline_periods < 2 or min_history < 1 or not 0 < min_drop < 1:
        raise SurvivalInputError("need recent_periods ≥ 1, baseline_periods ≥ 2, min_history ≥ 1, 0 < min_drop < 1")
    missing = {customer, date, amount} - set(transactions.columns)
    if missing:
        raise SurvivalInputError(f"transactions lack columns: {', '.join(sorted(missing))}")
    if transactions.empty:
        raise SurvivalInputError("no transactions given")
    dates = pd.to_datetime(transactions[date], errors="coerce")
    amounts = pd.to_numeric(transactions[amount], errors="coerce")
    if dates.isna().any() or amounts.isna().any():
        raise SurvivalInputError("dates or amounts are missing or unreadable")
    p = dates.dt.to_period(freq)
    last = pd.Period(pd.Timestamp(as_of), freq) if as_of is not None else p.max()
    offset = (last - p).map(lambda off: off.n).astype(int).to_numpy()  # 0 = current period
    window = recent_periods + baseline_periods
    keep = (offset >= 0) & (offset < window)
    codes, labels = pd.factorize(transactions[customer].to_numpy()[keep])
    grid = np.zeros((labels.size, window))
    np.add.at(grid, (codes, window - 1 - offset[keep]), amounts.to_numpy()[keep])
    base, recent = grid[:, :baseline_periods], grid[:, baseline_periods:]
    b_mean, r_mean = base.mean(axis=1), recent.mean(axis=1)
    enough = (base > 0).sum(axis=1) >= min_history
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(b_mean > 0, (b_mean - r_mean) / b_mean, 0.0)
        test = stats.ttest_ind(base, recent, axis=1, equal_var=False, alternative="greater")
    pv = np.where(np.isnan(test.pvalue), 0.0, test.pvalue)
    flag = enough & (share >= min_drop) & (pv < alpha)
    out = [
        DecliningAccount(
            labels[i], float(b_mean[i]), float(r_mean[i]), float(b_mean[i] - r_mean[i]), float(share[i]), float(pv[i])
        )
        for i in np.nonzero(flag)[0]
    ]
    return sorted(out, key=lambda a: (-a.drop, str(a.customer)))
