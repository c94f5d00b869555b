"""RFM: recency, frequency and monetary value per customer, quintile scores 1–5 and named segments.

Scoring rule (deterministic, tie-safe): a value's score is ``1 + floor(5 * (r - 1) / n)`` where ``r``
is the 1-based *minimum* rank of its tie group among ``n`` customers. Equal values always share a
score, the smallest value always scores 1, and with fewer distinct values than bins some scores are
simply unused (e.g. all-equal → all 1). Recency is scored reversed (most recent → 5).

Segment map on R and FM = ceil((F + M) / 2) (the customary 5×5 grid):

======  ==========  ==========  ==============  =================  ==================
R \\ FM  1           2           3               4                  5
======  ==========  ==========  ==============  =================  ==================
5       New         Potential   Potential       Champions          Champions
4       Promising   Potential   Potential       Loyal              Loyal
3       About to    About to    Need attention  Loyal              Loyal
        sleep       sleep
2       Hibernating Hibernating At risk         At risk            Can't lose them
1       Lost        Hibernating At risk         At risk            Can't lose them
======  ==========  ==========  ==============  =================  ==================

("Potential" is "Potential loyalist".)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rapport.analytics.rfm.errors import RfmInputError

_ROWS = {
    5: ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"),
    3: ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    1: ("Lost", "Hibernating", "At risk", "At risk", "Can't lose them"),
}
SEGMENT_MAP: dict[tuple[int, int], str] = {(r, fm + 1): name for r, row in _ROWS.items() for fm, name in enumerate(row)}


def quintile_scores(values: ArrayLike, *, bins: int = 5, reverse: bool = False) -> np.ndarray:
    """Scores 1..bins by the tie-safe rank rule of the module docstring; ``reverse`` scores small values high."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise RfmInputError("no values to score")
    if np.isnan(v).any():
        raise RfmInputError(f"{int(np.isnan(v).sum())} values are NaN")
    r = pd.Series(-v if reverse else v).rank(method="min").to_numpy()
    return (1 + np.floor(bins * (r - 1) / v.size)).astype(np.int8)


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer",
    date: str = "date",
    amount: str = "amount",
    as_of: object | None = None,
) -> pd.DataFrame:
    """Per customer: ``recency`` (days since last purchase), ``frequency`` (purchases), ``monetary`` (mean spend)."""
    missing = {customer, date, amount} - set(transactions.columns)
    if missing:
        raise RfmInputError(f"transactions lack columns: {', '.join(sorted(missing))}")
    if transactions.empty:
        raise RfmInputError("no transactions given")
    dates = pd.to_datetime(transactions[date], errors="coerce")
    amounts = pd.to_numeric(transactions[amount], errors="coerce")
    if dates.isna().any():
        raise RfmInputError(f"{int(dates.isna().sum())} dates are missing or unreadable")
    if amounts.isna().any():
        raise RfmInputError(f"{int(amounts.isna().sum())} amounts are missing or not numbers")
    end = pd.Timestamp(as_of) if as_of is not None else dates.max()
    if (dates > end).any():
        raise RfmInputError(f"{int((dates > end).sum())} transactions are after as_of {end.date()}")
    g = pd.DataFrame({"c": transactions[customer].to_numpy(), "d": dates, "a": amounts}).groupby("c")
    out = pd.DataFrame({"recency": (end - g["d"].max()).dt.days, "frequency": g.size(), "monetary": g["a"].mean()})
    out.index.name = customer
    return out


def rfm_segment(r: ArrayLike, f: ArrayLike, m: ArrayLike) -> np.ndarray:
    """Segment names from R, F, M scores (1–5) by :data:`SEGMENT_MAP`."""
    r, f, m = (np.asarray(x, dtype=int).ravel() for x in (r, f, m))
    if not all(((x >= 1) & (x <= 5)).all() for x in (r, f, m)):
        raise RfmInputError("scores must be integers 1..5")
    fm = -((-(f + m)) // 2)  # ceil
    table = np.empty((6, 6), dtype=object)
    for (ri, fi), name in SEGMENT_MAP.items():
        table[ri, fi] = name
    return table[r, fm]


def rfm_scores(summary: pd.DataFrame) -> pd.DataFrame:
    """Add ``R, F, M`` scores, ``RFM`` code (e.g. ``'545'``) and ``segment`` to a recency/frequency/monetary table."""
    missing = {"recency", "frequency", "monetary"} - set(summary.columns)
    if missing:
        raise RfmInputError(f"summary lacks columns: {', '.join(sorted(missing))}")
    if (summary["recency"] < 0).any() or (summary["frequency"] < 0).any():
        raise RfmInputError("recency and frequency must be non-negative")
    out = summary.copy()
    out["R"] = quintile_scores(summary["recency"], reverse=True)
    out["F"] = quintile_scores(summary["frequency"])
    out["M"] = quintile_scores(summary["monetary"])
    out["RFM"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    out["segment"] = rfm_segment(out["R"], out["F"], out["M"])
    return out
