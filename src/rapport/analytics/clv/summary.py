"""From transactions to the customary per-customer summary, and the checks every summary must pass.

``summarize(transactions, customer=..., date=..., amount=..., period="week")`` returns one row per
customer (index: the customer id) with, in whole periods of the chosen unit:

* ``frequency`` — repeat purchases: the number of distinct periods with a purchase, minus one
  (several purchases in one period count once, their amounts summed, as is customary);
* ``recency`` — periods from the first to the last purchase (0 without a repeat purchase);
* ``T`` — periods from the first purchase to the end of observation;
* ``monetary_value`` — the mean amount of the repeat purchase periods (0 without one), when an
  amount column is given.

Periods: ``day`` (calendar days), ``week`` (Monday–Sunday weeks, pandas' ``W``), ``month``
(calendar months). A date's period is the one it falls in; durations are differences of period
numbers. With ``calibration_end`` the summary is of purchases up to and including that date, for
customers whose first purchase is by then (T runs to the period of ``calibration_end``), and adds
``frequency_holdout`` (distinct purchase periods among the later purchases), ``monetary_value_holdout``
(their mean per-period amount) and ``duration_holdout`` (periods from ``calibration_end`` to the end).

Handling of bad input (documented, tested): unsorted rows are sorted; rows dated after
``observation_end`` are left out (and counted in ``Summary.dropped_after_end``); dates after
``today`` (default: now) are an error, as are unreadable dates, missing customer ids, and amounts
that are missing, zero or negative unless ``nonpositive="drop"`` (then they are left out and
counted). Errors name the (1-based data) rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import SummaryError, TransactionsError, sample

PERIODS = ("day", "week", "month")
# Periods per month, for the monthly CLV convention (the same factors as the lifetimes library).
PERIODS_PER_MONTH = {"day": 30.0, "week": 4.345, "month": 1.0}


@dataclass(frozen=True)
class Summary:
    frame: pd.DataFrame
    period: str
    observation_end: pd.Timestamp
    calibration_end: pd.Timestamp | None
    dropped_after_end: int
    dropped_nonpositive: int
    first_period: pd.Series  # each customer's first purchase period number (for tracking plots)
    repeat_periods: np.ndarray  # the period number of every repeat purchase, calibration and holdout
    end_period: int  # the period number of observation_end


def period_number(dates: pd.Series, period: str) -> np.ndarray:
    """Integer period of each date: days since 1970-01-01, Monday-weeks since 1969-12-29, or months."""
    days = (dates.dt.normalize() - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)
    days = days.to_numpy(dtype=np.int64)
    if period == "day":
        return days
    if period == "week":
        return (days + 3) // 7  # 1970-01-01 was a Thursday: shift so weeks start on Monday
    if period == "month":
        return ((dates.dt.year - 1970) * 12 + dates.dt.month - 1).to_numpy(dtype=np.int64)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}.")


def _rows(mask: np.ndarray | pd.Series) -> str:
    return sample((np.flatnonzero(np.asarray(mask)) + 1).tolist())


def summarize(transactions: pd.DataFrame, *, customer: str, date: str, amount: str | None = None,
              period: str = "week", observation_end: Any = None, calibration_end: Any = None,
              today: Any = None, nonpositive: Literal["error", "drop"] = "error") -> Summary:
    if period not in PERIODS:
        raise TransactionsError(f"period must be one of {', '.join(PERIODS)}, not {period!r}.")
    missing = [c for c in (customer, date, amount) if c is not None and c not in transactions.columns]
    if missing:
        raise TransactionsError(f"No column {', '.join(map(repr, missing))}; the columns are: "
                                f"{', '.join(map(str, transactions.columns))}.")
    if len(transactions) == 0:
        raise TransactionsError("There are no transactions.")
    ids = transactions[customer]
    no_id = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if no_id.any():
        raise TransactionsError(f"{int(no_id.sum()):,} row(s) have no {customer}: rows {_rows(no_id)}.")
    dates = pd.to_datetime(transactions[date], errors="coerce", format="mixed")
    if dates.dt.tz is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = dates.isna().to_numpy()
    if bad.any():
        raise TransactionsError(f"{int(bad.sum()):,} row(s) have no readable {date}: rows {_rows(bad)}.")
    now = pd.Timestamp.now() if today is None else pd.Timestamp(today)
    future = (dates > now).to_numpy()
    if future.any():
        raise TransactionsError(f"{int(future.sum()):,} row(s) are dated in the future (after {now:%Y-%m-%d}): "
                                f"rows {_rows(future)}.")
    keep = np.ones(len(transactions), dtype=bool)
    values = None
    dropped_nonpositive = 0
    if amount is not None:
        values = pd.to_numeric(transactions[amount], errors="coerce").to_numpy(dtype=float)
        unreadable = np.isnan(values)
        if unreadable.any():
            raise TransactionsError(f"{int(unreadable.sum()):,} row(s) have no numeric {amount}: "
                                    f"rows {_rows(unreadable)}.")
        nonpos = values <= 0
        if nonpos.any():
            if nonpositive == "error":
                raise TransactionsError(
                    f"{int(nonpos.sum()):,} row(s) have a zero or negative {amount} (returns? refunds?): rows "
                    f"{_rows(nonpos)}. Remove them, or drop them explicitly (nonpositive='drop').")
            keep &= ~nonpos
            dropped_nonpositive = int(nonpos.sum())
    end = dates.max() if observation_end is None else pd.Timestamp(observation_end)
    after = (dates > end).to_numpy()
    keep &= ~after
    cal = None if calibration_end is None else pd.Timestamp(calibration_end)
    if cal is not None and cal >= end:
        raise TransactionsError(f"calibration_end {cal:%Y-%m-%d} must be before the end of observation "
                                f"{end:%Y-%m-%d}.")
    kept_dates = dates[keep]
    frame = pd.DataFrame({"customer": ids.to_numpy()[keep], "p": period_number(kept_dates, period)})
    frame["amount"] = values[keep] if values is not None else 0.0
    if frame.empty:
        raise TransactionsError("No transaction is left once those after the end of observation are left out.")
    end_p = int(period_number(pd.Series([end]), period)[0])
    every = _per_period(frame)
    starts = every.groupby("customer")["p"].transform("min")
    repeats = every["p"].to_numpy()[(every["p"] > starts).to_numpy()]
    if cal is None:
        out, first = _collapse(_per_period(frame), end_p)
    else:
        # The split is by date, not by period: a purchase after calibration_end is in the holdout even
        # when it falls in the same week (or month) as calibration_end.
        in_calibration = (kept_dates <= cal).to_numpy()
        if not in_calibration.any():
            raise TransactionsError(f"No purchase is on or before calibration_end {cal:%Y-%m-%d}.")
        cal_p = int(period_number(pd.Series([cal]), period)[0])
        out, first = _collapse(_per_period(frame[in_calibration]), cal_p)
        hold = _per_period(frame[~in_calibration & frame["customer"].isin(out.index).to_numpy()])
        grouped = hold.groupby("customer")["amount"]
        out["frequency_holdout"] = grouped.size().reindex(out.index, fill_value=0).astype(float)
        out["monetary_value_holdout"] = grouped.mean().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = float(end_p - cal_p)
    if amount is None:
        out = out.drop(columns=[c for c in out.columns if c.startswith("monetary_value")])
    return Summary(out, period, end, cal, int(after.sum()), dropped_nonpositive, first, repeats, end_p)


def _per_period(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and period with a purchase, amounts summed; sorted, so row order never matters."""
    return frame.groupby(["customer", "p"], sort=True)["amount"].sum().reset_index()


def _collapse(per_period: pd.DataFrame, end_p: int) -> tuple[pd.DataFrame, pd.Series]:
    grouped = per_period.groupby("customer", sort=True)
    first = grouped["p"].min()
    last = grouped["p"].max()
    count = grouped.size()
    total = grouped["amount"].sum()
    first_amount = grouped["amount"].first()  # rows are sorted by period within a customer
    frequency = (count - 1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (total - first_amount) / frequency.where(frequency > 0, 1), 0.0)
    out = pd.DataFrame({"frequency": frequency, "recency": (last - first).astype(float),
                        "T": (end_p - first).astype(float), "monetary_value": monetary})
    out.index.name = "customer"
    return out, first


def check_summary(summary: Any, *, monetary: bool = False) -> tuple[np.ndarray, ...]:
    """``frequency, recency, T`` (and ``monetary_value``) as float arrays, or a :class:`SummaryError`.

    Checks: the columns exist and are numeric and finite; frequency is a non-negative integer;
    0 ≤ recency ≤ T (T = 0 is a customer first seen in the last period: they add nothing to the
    likelihood and have P(alive) = 1); recency is 0 when frequency is 0; with ``monetary``, the mean spend of
    repeat buyers is positive. Row numbers in messages are 1-based positions in the table.
    """
    names = ["frequency", "recency", "T"] + (["monetary_value"] if monetary else [])
    if isinstance(summary, pd.DataFrame):
        missing = [n for n in names if n not in summary.columns]
        if missing:
            raise SummaryError(f"The summary has no column {', '.join(missing)}; it needs "
                               f"{', '.join(names)}; its columns are: {', '.join(map(str, summary.columns))}.")
        columns = [pd.to_numeric(summary[n], errors="coerce").to_numpy(dtype=float) for n in names]
    else:
        columns = [np.asarray(summary[n], dtype=float) for n in names]
    if len(columns[0]) == 0:
        raise SummaryError("The summary has no customers.")
    for name, col in zip(names, columns, strict=True):
        bad = ~np.isfinite(col)
        if bad.any():
            raise SummaryError(f"{name} is missing or not a number in {int(bad.sum()):,} row(s): rows {_rows(bad)}.")
    x, t_x, T = columns[:3]
    checks = [
        ((x < 0) | (x != np.round(x)), "frequency must be a whole number ≥ 0"),
        (t_x < 0, "recency must be ≥ 0"),
        (T < 0, "T must be ≥ 0"),
        (t_x > T * (1 + 1e-12), "recency must not exceed T (the last purchase cannot be after the end of observation)"),
        ((x == 0) & (t_x != 0), "recency must be 0 when frequency is 0"),
    ]
    if monetary:
        checks.append(((x > 0) & (columns[3] <= 0), "monetary_value must be > 0 for customers with repeat purchases"))
    for mask, message in checks:
        if mask.any():
            raise SummaryError(f"{message}; {int(mask.sum()):,} row(s) break this: rows {_rows(mask)}.")
    return tuple(columns)
