"""Reads for the churn dashboard (``/insights/churn/``, ``/api/v1/insights/churn``) and the churn tiles
of the overview: the **stored** churn model, never a new one.

The nightly scoring job (``insights.scoring``) trains the one churn model, stores every customer's
probability and drivers as ``CustomerScore`` rows and the model's report on
``ScoringRun.notes["churn"]`` (``insights.churn_report``). This module shows those: the latest
finished run's report and fallbacks, the risk histogram and median of the stored probabilities, the
highest-risk customers from ``CustomerScore``, and the save rate of the churn alerts those scores
raised. So the page, the API, the account's score card and the alerts all tell the same story, and
opening the page costs a few indexed queries, not a model fit.

Invariants:
- Aggregates (report, histogram, median) are the same for every user; the histogram and median are
  cached under the run's id and finish time (a new run is a new key; nothing is invalidated by hand).
  Account deletions between runs (the scores cascade) show only after the next run or a day.
- The highest-risk list holds only accounts the actor may read: ``core.permissions.readable`` on
  the scores through their account (the same row rule as every account list), ranked among those.
- The save-rate tile counts the alerts ``alerts.alerts_visible`` shows the actor on the alerts page
  (their accounts, their managed teams', those assigned to them); a role that may not see churn
  alerts gets no tile (``None``), not an error.
- The report belongs to the latest *finished* run; while a run is raising its alerts its scores are
  already stored, so for those minutes the histogram and list may be a run ahead of the report.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Count, F
from django.db.models.functions import Floor

from rapport.core.models import User
from rapport.core.permissions import readable
from rapport.insights import alerts
from rapport.insights.churn_report import RISK_BANDS, risk_distribution
from rapport.insights.figures import _f
from rapport.insights.models import CustomerScore, ScoringRun
from rapport.insights.selectors import require_warehouse

CACHE_SECONDS = 24 * 3600  # a run changes the key; this only bounds memory
NO_RUN = ("No scoring run has finished yet, so there are no churn scores to show. Build the warehouse "
          "(rapport warehouse build), then score the customers: rapport insights score (the daily "
          "customers-score job does the same).")
ALERT_PERMISSION = "insights.view_churnalert"


def latest_run() -> ScoringRun | None:
    return ScoringRun.objects.filter(finished_at__isnull=False).order_by("-finished_at", "-pk").first()


def _risk_now() -> dict[str, Any]:
    """Histogram (bands of 0.1) and median of every stored churn probability (NULL ones left out)."""
    scored = CustomerScore.objects.filter(churn_probability__isnull=False).order_by()
    counts = [0] * RISK_BANDS
    for row in scored.annotate(band=Floor(F("churn_probability") * RISK_BANDS)).values("band").annotate(n=Count("id")):
        counts[min(max(int(row["band"]), 0), RISK_BANDS - 1)] += row["n"]  # 1.0 belongs to the top band
    n = sum(counts)
    median = None
    if n:
        # The middle one or two values (np.median's rule), read in one ordered slice.
        middle = list(scored.order_by("churn_probability").values_list("churn_probability", flat=True)
                      [(n - 1) // 2: n // 2 + 1])
        median = sum(middle) / len(middle)
    return risk_distribution(counts, median)


def risk_of(run: ScoringRun) -> dict[str, Any]:
    """``_risk_now()``, cached for ``run``."""
    key = f"insights:dash:v1:churn:{run.pk}:{run.finished_at.isoformat() if run.finished_at else ''}:risk"
    value = cache.get(key)
    if value is None:
        value = _risk_now()
        cache.set(key, value, CACHE_SECONDS)
    return value


def highest_risk(*, actor: User, top: int) -> list[dict[str, Any]]:
    """The ``top`` readable customers by stored churn probability (ties by account id), ranked 1…"""
    scores = readable(actor, CustomerScore.objects.filter(churn_probability__isnull=False), via="account")
    rows = scores.order_by("-churn_probability", "account_id").values_list(
        "account_id", "account__name", "churn_probability", "churn_drivers")[:top]
    out = []
    for rank, (account_id, name, p, drivers) in enumerate(rows, 1):
        first = drivers[0] if drivers else ""
        out.append({"rank": rank, "account_id": account_id, "name": name, "risk": _f(p), "driver": first,
                    "driver_label": alerts.driver_label(first) if first else "",
                    "driver_raises": first.startswith("+"), "drivers": list(drivers or [])})
    return out


def save_rate_tile(*, actor: User) -> dict[str, Any] | None:
    if not actor.has_perm(ALERT_PERMISSION):
        return None
    return alerts.alert_counts(actor=actor)


def run_out(run: ScoringRun) -> dict[str, Any]:
    return {"id": run.pk, "started_at": run.started_at, "finished_at": run.finished_at,
            "as_of": run.as_of.isoformat() if run.as_of else None, "customers": run.customers, "alerts": run.alerts}


def dash_churn(*, actor: User, top: int = 20) -> dict[str, Any]:
    """The churn page: the latest finished run's model report, its fallbacks, the stored risk, the
    highest-risk readable customers and the save-rate tile (module docstring)."""
    require_warehouse(actor)
    tile = save_rate_tile(actor=actor)
    run = latest_run()
    if run is None:
        return {"status": "no_run", "message": NO_RUN, "save_rate": tile}
    report = dict(run.notes.get("churn") or {})
    return {
        **report, "status": "ok", "run": run_out(run), "model_trained": "auc" in report,
        "fallbacks": list(run.notes.get("fallbacks") or []),
        "risk": risk_of(run), "highest_risk": highest_risk(actor=actor, top=top), "save_rate": tile,
    }


def churn_tiles(*, actor: User) -> dict[str, Any]:
    """The overview's churn figures: stored risk (or why there is none) and the save-rate tile."""
    run = latest_run()
    risk = risk_of(run) if run is not None else None
    message = NO_RUN if run is None else (None if risk and risk["scored"] else
                                          "The latest scoring run stored no churn probability.")
    return {"churn_risk": risk if message is None else None, "churn_message": message,
            "save_rate": save_rate_tile(actor=actor)}
