"""Model checks as data frames a chart can draw: calibration vs holdout, and cumulative tracking.

``calibration_table(fit, summary)`` groups customers by their calibration-period frequency
(0, 1, ..., ``max_frequency`` and "``max_frequency``+" pooled) and gives, per group, the number of
customers, the mean actual holdout purchases and the mean predicted ones (the conditional
expectation over each customer's ``duration_holdout``) — Fader, Hardie & Lee (2005), fig. 4.

``tracking_series(fit, s.first_period, s.repeat_periods, start, s.end_period)`` (``s`` a
:class:`.summary.Summary`) gives, for every period from
``start`` to ``end``, the actual cumulative repeat purchases and the model's: each customer
acquired at period b contributes E[X(t − b)] (the unconditional expectation) at t > b, the
customers of one acquisition period computed at once. Invariant: both columns are cumulative
(non-decreasing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def calibration_table(fit: Any, summary: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    needed = {"frequency", "recency", "T", "frequency_holdout", "duration_holdout"}
    missing = needed - set(summary.columns)
    if missing:
        raise ValueError(f"The summary needs a calibration/holdout split; it lacks {', '.join(sorted(missing))}.")
    predicted = np.zeros(len(summary))
    for duration, rows in summary.groupby("duration_holdout").indices.items():
        part = summary.iloc[rows]
        predicted[rows] = fit.expected_purchases(float(duration), part["frequency"], part["recency"], part["T"])
    group = np.minimum(summary["frequency"].to_numpy(), max_frequency).astype(int)
    frame = pd.DataFrame({"frequency": group, "actual": summary["frequency_holdout"].to_numpy(),
                          "predicted": predicted})
    out = frame.groupby("frequency").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                         predicted=("predicted", "mean")).reset_index()
    out["label"] = [f"{f}+" if f == max_frequency else str(f) for f in out["frequency"]]
    return out[["frequency", "label", "customers", "actual", "predicted"]]


def tracking_series(fit: Any, first_period: Any, repeat_periods: Any, start: int, end: int) -> pd.DataFrame:
    """``first_period``: each customer's acquisition period; ``repeat_periods``: the period of every
    repeat purchase (any order). Periods are integers in the model's unit."""
    periods = np.arange(start, end + 1)
    first = np.asarray(first_period, dtype=np.int64)
    repeats = np.sort(np.asarray(repeat_periods, dtype=np.int64))
    actual = np.searchsorted(repeats, periods, side="right")
    births, counts = np.unique(first, return_counts=True)
    expected = np.zeros(len(periods))
    for birth, count in zip(births, counts, strict=True):
        age = periods - birth
        alive = age > 0
        if alive.any():
            expected[alive] += count * fit.expected_purchases_new(age[alive].astype(float))
    return pd.DataFrame({"period": periods, "actual": actual.astype(float), "expected": expected})
