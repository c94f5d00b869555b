"""The dashboards' figures: warehouse SQL → ``rapport.analytics`` → plain, JSON-ready dicts.

Each ``*_figures`` function takes a read-only DuckDB connection (and plain parameters) and returns
a dict of numbers, strings and lists that the page renders and the API returns unchanged, plus,
under the key ``"_customers"``, per-customer numpy arrays (customer keys ranked, with their
values). Those never leave the process as they are: ``selectors_dash`` narrows them to the rows
the actor may read before anything is shown (``core.permissions`` decides, not this module).

Invariants:
- No Django here (this module only imports DuckDB, pandas, numpy and ``rapport.analytics``), so it
  can be run from a notebook on a warehouse file.
- "Now" is the date of the last order in the warehouse (``as_of``), not the wall clock: recency
  and defection windows are measured against the data's own end, so a warehouse built from an old
  export reads the same today as on the day it was built.
- There is no churn model here: the churn page shows the scoring job's stored model and scores
  (``selectors_churn``), so that it agrees with the alerts; ``churn_report`` shapes that report.
- A customer is an account with at least one order line that has a company-currency amount
  (``net_amount`` is NULL without an exchange rate); the "(no account)" member 0 is left out.
- Too little data is a result, not an error: a section that cannot be computed has
  ``{"status": "insufficient", "message": ...}`` saying why.
"""

from __future__ import annotations

import warnings
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from rapport.analytics import clv as clv_lib
from rapport.analytics import rfm as rfm_lib
from rapport.analytics import survival as survival_lib

PYRAMID_SHARES = {"platinum": 0.01, "gold": 0.04, "iron": 0.15}
DEFECTED_AFTER_DAYS = 180  # survival: no order for this long counts as having left
KM_DIMENSIONS = ("region", "tier", "channel")
SEGMENT_ORDER = (
    "Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention", "About to sleep",
    "At risk", "Can't lose them", "Hibernating", "Lost",
)


def insufficient(message: str) -> dict[str, Any]:
    return {"status": "insufficient", "message": message}


def _f(value: Any, digits: int = 4) -> float | None:
    """A float rounded for display and JSON (NaN and infinity become None)."""
    v = float(value)
    return round(v, digits) if np.isfinite(v) else None


# --- reading the warehouse -------------------------------------------------------------------


def transactions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per order: ``customer``, ``date`` (Timestamp), ``amount`` (float, company currency)."""
    frame = con.execute(
        """SELECT customer_key AS customer, strptime(CAST(date_key AS VARCHAR), '%Y%m%d') AS date,
                  CAST(sum(net_amount) AS DOUBLE) AS amount
           FROM fact_order_line WHERE customer_key <> 0 AND net_amount IS NOT NULL
           GROUP BY order_id, customer_key, date_key HAVING sum(net_amount) > 0
           ORDER BY date, order_id"""
    ).df()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def customers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``dim_customer`` (index: customer key) plus ``channel``, each customer's most used
    interaction channel ("none" without interactions), and ``interactions`` (their count)."""
    frame = con.execute(
        """SELECT c.customer_key, c.name, c.tier, c.segment, c.region, c.country, c.owner, c.team,
                  coalesce(i.channel, 'none') AS channel, coalesce(i.n, 0) AS interactions
           FROM dim_customer c LEFT JOIN (
             SELECT customer_key, arg_max(channel_key, k) AS channel, sum(k) AS n FROM (
               SELECT customer_key, channel_key, count(*) AS k FROM fact_interaction GROUP BY ALL)
             GROUP BY customer_key) i USING (customer_key)
           WHERE c.customer_key <> 0"""
    ).df()
    return frame.set_index("customer_key")


def as_of(tx: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(tx["date"].max()).normalize()


# --- RFM ----------------------------------------------------------------------------------


def rfm_table(tx: pd.DataFrame, shares: dict[str, float] | None = None) -> pd.DataFrame:
    """Per customer: recency/frequency/monetary, R/F/M scores, segment, revenue and pyramid tier."""
    scores = rfm_lib.rfm_scores(rfm_lib.rfm_summary(tx, as_of=as_of(tx)))
    scores["revenue"] = tx.groupby("customer")["amount"].sum().reindex(scores.index)
    scores["tier"] = rfm_lib.customer_pyramid(scores["revenue"].to_numpy(), shares=shares or PYRAMID_SHARES)
    return scores


def rfm_figures(con: duckdb.DuckDBPyConnection, *, shares: dict[str, float] | None = None) -> dict[str, Any]:
    tx = transactions(con)
    if tx.empty:
        return insufficient("There are no orders in the warehouse yet.")
    shares = shares or PYRAMID_SHARES
    table = rfm_table(tx, shares)
    n, total = len(table), float(table["revenue"].sum())
    segments = []
    grouped = table.groupby("segment")
    for name in SEGMENT_ORDER:
        if name not in grouped.groups:
            continue
        g = grouped.get_group(name)
        segments.append({
            "segment": name, "customers": len(g), "share": _f(len(g) / n), "revenue": _f(g["revenue"].sum(), 2),
            "revenue_share": _f(g["revenue"].sum() / total) if total else None,
            "recency": _f(g["recency"].mean(), 1), "frequency": _f(g["frequency"].mean(), 2),
            "monetary": _f(g["monetary"].mean(), 2),
        })
    grid = [[int(((table["R"] == r) & (table["F"] == f)).sum()) for f in range(1, 6)] for r in range(5, 0, -1)]
    pyramid = []
    for tier in rfm_lib.TIERS:
        g = table[table["tier"] == tier]
        pyramid.append({
            "tier": tier, "share_rule": shares.get(tier), "customers": len(g),
            "revenue": _f(g["revenue"].sum(), 2), "revenue_share": _f(g["revenue"].sum() / total) if total else None,
            "threshold": _f(g["revenue"].min(), 2) if len(g) else None,
        })
    return {
        "status": "ok", "as_of": as_of(tx).date().isoformat(), "customers": n, "revenue": _f(total, 2),
        "segments": segments, "grid": {"rows": [5, 4, 3, 2, 1], "columns": [1, 2, 3, 4, 5], "counts": grid,
                 "table": [{"r": r, "counts": row} for r, row in zip(range(5, 0, -1), grid, strict=True)]},
        "pyramid": pyramid, "clusters": _clusters(table),
    }


def _clusters(table: pd.DataFrame) -> dict[str, Any]:
    features = table[["recency", "frequency", "monetary"]].astype(float)
    top_k = min(6, len(features) - 1)
    if top_k < 2:
        return insufficient(f"{len(features)} customers are too few to cluster.")
    try:
        result = rfm_lib.cluster_customers(features, k=range(2, top_k + 1), sample_size=20_000)
    except rfm_lib.ClusterInputError as exc:
        return insufficient(str(exc))
    sizes = np.bincount(result.labels, minlength=result.k)
    return {
        "status": "ok", "k": result.k, "method": result.method, "features": list(result.features),
        "silhouettes": {str(k): _f(v) for k, v in result.silhouettes.items()},
        "clusters": [
            {"cluster": c, "customers": int(sizes[c]), "description": result.descriptions[c],
             "profile": {f: _f(result.profile.loc[c, f], 3) for f in result.features}}
            for c in range(result.k)
        ],
    }


# --- CLV ----------------------------------------------------------------------------------


def clv_figures(con: duckdb.DuckDBPyConnection, *, model: str = "bgnbd", months: int = 12,
                discount_rate: float = 0.01) -> dict[str, Any]:
    if model not in clv_lib.MODELS:
        raise ValueError(f"model must be one of {', '.join(clv_lib.MODELS)}, not {model!r}")
    tx = transactions(con)
    if tx.empty:
        return insufficient("There are no orders in the warehouse yet.")
    end = as_of(tx)
    summary = clv_lib.summarize(tx, customer="customer", date="date", amount="amount", period="week",
                                observation_end=end)
    frame = summary.frame
    repeaters = int((frame["frequency"] > 0).sum())
    base: dict[str, Any] = {"model": model, "as_of": end.date().isoformat(), "customers": len(frame),
                            "repeat_buyers": repeaters, "period": "week"}
    if repeaters == 0:
        return {**base, **insufficient(f"None of the {len(frame):,} customers has bought in two different weeks: "
                                       "there is no repeat buying to model yet.")}
    if len(frame) < 10 or repeaters < 3:
        return {**base, **insufficient(f"{len(frame):,} customers of whom {repeaters:,} bought again are too few "
                                       "to fit a lifetime-value model (at least 10 customers and 3 repeat buyers).")}
    try:
        fit = clv_lib.fit_purchases(frame, model=model)
        spend = clv_lib.fit_spend(frame)
    except (clv_lib.ClvInputError, clv_lib.FitError) as exc:
        return {**base, **insufficient(str(exc))}
    scores = clv_lib.score(fit, spend, frame, horizon=52, months=months, discount_rate=discount_rate,
                           periods_per_month=clv_lib.PERIODS_PER_MONTH["week"])
    clv = scores["clv"].to_numpy(dtype=float)
    order = np.argsort(-clv, kind="stable")
    return {
        **base, "status": "ok", "months": months, "discount_rate": discount_rate,
        "fit": {"params": {k: _f(v, 6) for k, v in fit.params.items()},
                "standard_errors": {k: _f(v, 6) for k, v in fit.standard_errors.items()},
                "log_likelihood": _f(fit.log_likelihood, 3), "n_customers": fit.n_customers},
        "spend": {"params": {k: _f(v, 6) for k, v in spend.params.items()},
                  "standard_errors": {k: _f(v, 6) for k, v in spend.standard_errors.items()},
                  "correlation": _f(spend.correlation, 3), "n_customers": spend.n_customers,
                  "independent": not spend.warnings,
                  "verdict": spend.warnings[0] if spend.warnings else (
                      f"Purchase frequency and mean spend are nearly uncorrelated (Pearson {spend.correlation:.2f}): "
                      "the Gamma-Gamma independence assumption holds for these data.")},
        "median_clv": _f(np.median(clv), 2), "total_clv": _f(clv.sum(), 2),
        "deciles": _deciles(clv),
        **_holdout(tx, end, model),
        "_customers": {"key": frame.index.to_numpy()[order], "clv": clv[order],
                       "p_alive": scores["p_alive"].to_numpy()[order],
                       "expected_purchases": scores["expected_purchases"].to_numpy()[order]},
    }


def _deciles(values: np.ndarray) -> list[dict[str, Any]]:
    """Customers ranked by value (highest first) cut into ten equal groups (fewer with < 10 customers)."""
    order = np.argsort(-values, kind="stable")
    total = float(values.sum())
    out = []
    for i, group in enumerate(np.array_split(order, min(10, len(values)))):
        v = values[group]
        out.append({"decile": i + 1, "customers": len(group), "mean": _f(v.mean(), 2), "min": _f(v.min(), 2),
                    "max": _f(v.max(), 2), "share": _f(v.sum() / total) if total else None})
    return out


def _holdout(tx: pd.DataFrame, end: pd.Timestamp, model: str) -> dict[str, Any]:
    """Calibration (fit on the first ~75% of the observed span, compared with the rest) and tracking
    (cumulative repeat purchases, actual against the calibration-period model)."""
    start = tx["date"].min()
    holdout_days = max(28, int((end - start).days * 0.25))
    cal_end = end - pd.Timedelta(days=holdout_days)
    if cal_end <= start + pd.Timedelta(days=28):
        msg = "The orders span too short a time to hold some back for a calibration check."
        return {"calibration": insufficient(msg), "tracking": insufficient(msg)}
    try:
        cal = clv_lib.summarize(tx, customer="customer", date="date", amount="amount", period="week",
                                observation_end=end, calibration_end=cal_end)
        cal_fit = clv_lib.fit_purchases(cal.frame, model=model)
    except (clv_lib.ClvInputError, clv_lib.FitError) as exc:
        return {"calibration": insufficient(str(exc)), "tracking": insufficient(str(exc))}
    table = clv_lib.calibration_table(cal_fit, cal.frame)
    full = clv_lib.summarize(tx, customer="customer", date="date", amount="amount", period="week",
                             observation_end=end)
    first = int(full.first_period.min())
    track = clv_lib.tracking_series(cal_fit, full.first_period, full.repeat_periods, first, full.end_period)
    cal_period = int(clv_lib.summary.period_number(pd.Series([cal_end]), "week")[0])
    return {
        "calibration": {
            "status": "ok", "calibration_end": cal_end.date().isoformat(), "holdout_weeks": round(holdout_days / 7),
            "rows": [{"label": r.label, "customers": int(r.customers), "actual": _f(r.actual, 3),
                      "predicted": _f(r.predicted, 3)} for r in table.itertuples()],
        },
        "tracking": {
            "status": "ok", "calibration_week": cal_period - first,
            "weeks": [int(p) - first for p in track["period"]],
            "actual": [_f(v, 2) for v in track["actual"]], "expected": [_f(v, 2) for v in track["expected"]],
        },
    }


# --- defection ----------------------------------------------------------------------------


def lifetimes(tx: pd.DataFrame, *, defected_after: int = DEFECTED_AFTER_DAYS) -> pd.DataFrame:
    """Per customer: ``duration`` in days and ``defected`` (no order in the last ``defected_after``
    days). A defector's duration ends at their last order; everyone else is censored at ``as_of``."""
    end = as_of(tx)
    g = tx.groupby("customer")["date"]
    first, last = g.min(), g.max()
    defected = (end - last).dt.days > defected_after
    duration = np.where(defected, (last - first).dt.days, (end - first).dt.days)
    return pd.DataFrame({"duration": duration.astype(float), "defected": defected.to_numpy()}, index=first.index)


def defection_figures(con: duckdb.DuckDBPyConnection, *, dimension: str = "region",
                      reasons: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``reasons``: ``{"source", "reason", "count"}`` rows grouped in the operational database (lost
    deals, cancellations), which the warehouse does not hold."""
    if dimension not in KM_DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(KM_DIMENSIONS)}, not {dimension!r}")
    out: dict[str, Any] = {"dimension": dimension, "defected_after_days": DEFECTED_AFTER_DAYS,
                           "reasons": _reasons(reasons or [])}
    tx = transactions(con)
    if tx.empty:
        return {**out, "cohorts": insufficient("There are no orders yet."),
                "survival": insufficient("There are no orders yet."), "declining": [], "_customers": _no_decliners()}
    out["as_of"] = as_of(tx).date().isoformat()
    out["cohorts"] = _cohorts(tx)
    life = lifetimes(tx)
    groups = customers(con).reindex(life.index)[dimension].fillna("unknown").astype(str).to_numpy()
    out["survival"] = _survival(life, groups)
    with warnings.catch_warnings():
        # Constant spend gives scipy's t-test a zero variance; the analytics rule handles that case.
        warnings.simplefilter("ignore", RuntimeWarning)
        decl = survival_lib.declining_accounts(tx, as_of=as_of(tx))
    out["declining_count"] = len(decl)
    out["_customers"] = {"key": np.array([d.customer for d in decl]), "baseline": np.array([d.baseline for d in decl]),
                         "recent": np.array([d.recent for d in decl]), "drop": np.array([d.drop for d in decl]),
                         "drop_share": np.array([d.drop_share for d in decl]),
                         "p_value": np.array([d.p_value for d in decl])}
    return out


def _no_decliners() -> dict[str, np.ndarray]:
    return {k: np.array([]) for k in ("key", "baseline", "recent", "drop", "drop_share", "p_value")}


def _reasons(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return insufficient("No lost deals or cancellations with a reason are recorded yet.")
    table = survival_lib.defection_reasons(pd.DataFrame(rows), by=("source",), weight="count")
    return {"status": "ok", "total": int(table["count"].sum()),
            "rows": [{"source": r.source, "reason": r.reason, "count": int(r.count), "share": _f(r.share)}
                     for r in table.itertuples()]}


def _cohorts(tx: pd.DataFrame, *, last: int = 12, periods: int = 12) -> dict[str, Any]:
    matrix = survival_lib.cohort_retention(tx, period="month")
    matrix = matrix.iloc[-last:]
    cols = [c for c in matrix.columns if c != "customers" and int(c) <= periods]
    return {
        "status": "ok", "periods": [int(c) for c in cols],
        "rows": [{"cohort": str(idx), "customers": int(row["customers"]),
                  "retention": [None if pd.isna(row[c]) else _f(row[c]) for c in cols]}
                 for idx, row in matrix.iterrows()],
    }


def _curve(km: survival_lib.KaplanMeier) -> dict[str, Any]:
    return {"time": [_f(t, 1) for t in km.timeline], "survival": [_f(s) for s in km.survival],
            "lower": [_f(s) for s in km.lower], "upper": [_f(s) for s in km.upper],
            "at_risk": [int(n) for n in km.at_risk], "events": [int(d) for d in km.events],
            "median": _f(km.median, 1)}


def _survival(life: pd.DataFrame, groups: np.ndarray) -> dict[str, Any]:
    t, e = life["duration"].to_numpy(), life["defected"].to_numpy()
    overall = survival_lib.kaplan_meier(t, e)
    by = survival_lib.kaplan_meier_by_group(t, e, groups)
    result: dict[str, Any] = {
        "status": "ok", "customers": len(t), "defected": int(e.sum()), "overall": _curve(overall),
        "groups": [{"group": str(g), "customers": int((groups == g).sum()), "defected": int(km.events.sum()),
                    **_curve(km)} for g, km in by.items()],
    }
    try:
        test = survival_lib.logrank_test(t, e, groups)
        result["logrank"] = {"status": "ok", "statistic": _f(test.statistic), "p_value": _f(test.p_value, 6),
                             "degrees_of_freedom": test.degrees_of_freedom}
    except survival_lib.SurvivalInputError as exc:
        result["logrank"] = insufficient(str(exc))
    return result
