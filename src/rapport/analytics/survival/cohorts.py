"""Cohort retention: customers grouped by the period of their first purchase, and for each later
period the share of the cohort that bought in it. Period 0 is always 1.0; periods not yet reached
by a cohort are NaN rather than 0, so young cohorts are not mistaken for churned ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rapport.analytics.survival.errors import SurvivalInputError

_FREQ = {"month": "M", "week": "W"}


def cohort_retention(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer",
    date: str = "date",
    period: str = "month",
    as_of: object | None = None,
) -> pd.DataFrame:
    """Cohort (first-purchase period) × periods since → share active; ``as_of`` defaults to the last date."""
    if period not in _FREQ:
        raise SurvivalInputError(f"period must be 'month' or 'week', got {period!r}")
    missing = {customer, date} - set(transactions.columns)
    if missing:
        raise SurvivalInputError(f"transactions lack columns: {', '.join(sorted(missing))}")
    if transactions.empty:
        raise SurvivalInputError("no transactions given")
    dates = pd.to_datetime(transactions[date], errors="coerce")
    if dates.isna().any():
        raise SurvivalInputError(f"{int(dates.isna().sum())} dates are missing or unreadable")
    p = dates.dt.to_period(_FREQ[period])
    frame = pd.DataFrame({"c": transactions[customer].to_numpy(), "p": p})
    first = frame.groupby("c")["p"].transform("min")
    frame["cohort"] = first
    frame["since"] = (p - first).map(lambda off: off.n).astype(int)
    active = frame.drop_duplicates(["c", "since"]).groupby(["cohort", "since"]).size().unstack(fill_value=0)
    sizes = active[0]
    matrix = active.div(sizes, axis=0)
    last = pd.Period(pd.Timestamp(as_of), _FREQ[period]) if as_of is not None else p.max()
    reached = np.array([(last - c).n for c in matrix.index])
    cols = matrix.columns.to_numpy()
    matrix = matrix.where(cols[None, :] <= reached[:, None])
    matrix.insert(0, "customers", sizes)
    matrix.index.name = "cohort"
    matrix.columns.name = "periods_since"
    return matrix
