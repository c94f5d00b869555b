"""Defection reasons tally: free-text reasons normalised (trimmed, case-folded, blanks → 'unknown')
and counted, with each reason's share of its segment/period group (shares sum to 1 per group)."""

from __future__ import annotations

import pandas as pd

from rapport.analytics.survival.errors import SurvivalInputError


def defection_reasons(defections: pd.DataFrame, *, reason: str = "reason", by: tuple[str, ...] = (),
                      weight: str | None = None) -> pd.DataFrame:
    """Columns ``*by, reason, count, share`` sorted by group then count (desc) then reason. One row is
    one defection, or ``weight`` of them when that column is named (counts already grouped upstream,
    e.g. in SQL; reasons that normalise alike are summed)."""
    missing = ({reason, *by, *((weight,) if weight else ())}) - set(defections.columns)
    if missing:
        raise SurvivalInputError(f"defections lack columns: {', '.join(sorted(missing))}")
    if defections.empty:
        raise SurvivalInputError("no defections given")
    r = defections[reason].astype("string").str.strip().str.casefold().fillna("").replace("", "unknown")
    frame = defections[list(by)].copy()
    frame[reason] = r
    groups = [*by, reason]
    if weight:
        frame["_w"] = defections[weight].astype("int64")
        counts = frame.groupby(groups, dropna=False)["_w"].sum().rename("count").reset_index()
        counts = counts[counts["count"] > 0]
    else:
        counts = frame.groupby(groups, dropna=False).size().rename("count").reset_index()
    totals = counts.groupby(list(by))["count"].transform("sum") if by else counts["count"].sum()
    counts["share"] = counts["count"] / totals
    counts["_neg"] = -counts["count"]
    return counts.sort_values([*by, "_neg", reason]).drop(columns="_neg").reset_index(drop=True)
