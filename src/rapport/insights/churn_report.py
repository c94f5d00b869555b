"""The churn model's report: what the scoring job keeps on ``ScoringRun.notes["churn"]`` and the churn
dashboard shows, so that the page describes the very model whose probabilities raised the alerts.

- ``model_report(model, ...)``: the out-of-fold evaluation of a trained ``analytics.churn`` model
  (AUC against the linear baseline, the time split when there was one, Brier scores, top-decile
  lift and the lift table by decile), its features and the columns it dropped with the reason;
- ``driver_importance(drivers)``: global importance from the drivers stored per customer — how often
  each feature is among a customer's drivers, raising or lowering the risk, and how often first;
- ``risk_distribution(counts, median)``: the risk histogram of stored probabilities, ten bands of 0.1.

Invariants:
- No Django here (like ``figures``): plain numbers in, JSON-ready dicts out.
- Every float is rounded by ``figures._f`` (NaN and infinity become None), so a report can be stored
  in a JSON column on both databases and is the same number on the page, in the API and in the row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rapport.analytics import churn as churn_lib
from rapport.insights.figures import _f

RISK_BANDS = 10  # risk histogram: band i holds probabilities in [i/10, (i+1)/10), the last one also 1.0
BAND_LABELS = [f"{i / RISK_BANDS:.1f}–{(i + 1) / RISK_BANDS:.1f}" for i in range(RISK_BANDS)]


def model_report(model: churn_lib.ChurnModel) -> dict[str, Any]:
    """The evaluation of ``model`` (its ``metrics``) and its encoder's features, JSON-safe."""
    m = model.metrics
    return {
        "customers": m.rows, "churners": m.positives, "base_rate": _f(m.positives / m.rows), "folds": m.folds,
        "auc": _f(m.auc), "baseline_auc": _f(m.baseline_auc),
        "time_auc": None if m.time_auc is None else _f(m.time_auc),
        "time_baseline_auc": None if m.time_baseline_auc is None else _f(m.time_baseline_auc),
        "time_split": m.time_split,
        "brier": _f(m.brier), "baseline_brier": _f(m.baseline_brier), "top_decile_lift": _f(m.top_decile_lift, 3),
        "lift": [{"decile": int(r.decile), "customers": int(r.customers), "mean_predicted": _f(r.mean_predicted),
                  "observed_rate": _f(r.observed_rate), "lift": _f(r.lift, 3)} for r in m.lift.itertuples()],
        "features": list(model.encoder.names),
        "dropped": [{"name": d.name, "reason": d.reason} for d in model.encoder.dropped],
    }


def driver_importance(drivers: Iterable[list[str] | None]) -> list[dict[str, Any]]:
    """One row per feature named in any customer's drivers (``"+days_since_last_order"`` raises the
    risk, ``"-orders"`` lowers it; strongest first): ``raises``, ``lowers``, ``top`` (first driver) and
    ``share`` of all customers with that feature among their drivers. Most frequent first."""
    tally: dict[str, list[int]] = {}
    n = 0
    for labels in drivers:
        n += 1
        for position, label in enumerate(labels or []):
            if not label:
                continue
            counts = tally.setdefault(label[1:], [0, 0, 0])
            counts[0 if label[0] == "+" else 1] += 1
            counts[2] += position == 0
    rows = [{"feature": name, "raises": c[0], "lowers": c[1], "top": c[2], "share": _f((c[0] + c[1]) / n)}
            for name, c in tally.items()]
    return sorted(rows, key=lambda r: (-(r["raises"] + r["lowers"]), r["feature"]))


def risk_distribution(counts: list[int], median: float | None) -> dict[str, Any]:
    """The histogram the pages draw: ``RISK_BANDS`` counts (band labels beside them) and the median."""
    if len(counts) != RISK_BANDS:
        raise ValueError(f"expected {RISK_BANDS} band counts, not {len(counts)}")
    return {"bins": BAND_LABELS, "counts": [int(c) for c in counts], "scored": int(sum(counts)),
            "median": None if median is None else _f(median),
            "rows": [{"band": b, "customers": int(c)} for b, c in zip(BAND_LABELS, counts, strict=True)]}
