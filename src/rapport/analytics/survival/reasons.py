"""Defection reasons tally: free-text reasons normalised (trimmed, case-folded, blanks → 'unknown')
and counted, with each reason's share of its segment/period group (shares sum to 1 per group)."""

from __future__ import annotations

import pandas as pd

from rapport.analytics.survival.errors import SurvivalInputError


def defection_reasons(defections: pd.DataFrame, *, reason: str = "reason", by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Columns ``*by, reason, count, share`` sorted by group then count (desc) then reason."""
    missing = ({reason, *by}) - set(defections.columns)
    if missing:
        raise SurvivalInputError(f"defections lack columns: {', '.join(sorted(missing))}")
    if defections.empty:
        raise SurvivalInputError("no defections given")
    r = defections[reason].astype("string").str.strip().str.casefold().fillna("").replace("", "unknown")
    frame = defections[list(by)].copy()
    frame[reason] = r
    counts = frame.groupby([*by, reason], dropna=False).size().rename("count").reset_index()
    totals = counts.groupby(list(by))["count"].transform("sum") if by else counts["count"].sum()
    counts["share"] = counts["count"] / totals
    counts["_neg"] = -counts["count"]
    return counts.sort_values([*by, "_neg", reason]).drop(columns="_neg").reset_index(drop=True)
