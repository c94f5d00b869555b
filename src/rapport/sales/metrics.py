"""Sales metrics: every figure of the dashboard, the CSV and the API, for one period and scope.

A period is a month, quarter, year or custom range (``metrics_scope.Period``); a scope is one
rep, one team, or everything the actor may read (``metrics_scope.Scope``; who may pick which is
``scope_check``). Amounts are in the company currency. Each figure is computed by aggregate
SQL in the module named below; Python only combines the groups. ``DEFINITIONS`` is the one
text of each figure: the page shows it, the API returns its key with it.

Figures that are snapshots of *now* (open leads, open deals, prospective customers) have no
change against the previous period; all others do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rapport.commerce.pricing import company_currency
from rapport.core import permissions
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.sales.metrics_activity import OPEN_LEAD_STATUSES, activity_figures
from rapport.sales.metrics_customers import (
    new_customers,
    new_customers_series,
    prospective_customers,
    retained_customers,
)
from rapport.sales.metrics_deals import TOTAL, StageStep, deal_figures, stage_conversion
from rapport.sales.metrics_revenue import new_revenue, recurring_revenue
from rapport.sales.metrics_scope import Period, Scope, period_resolve, reps_in, scope_check
from rapport.sales.models import Opportunity, Pipeline

# key: (label, definition, kind) — kind is count | money | ratio | days | number.
DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "new_revenue": ("New revenue", "Net (pre-tax) total of the invoices issued in the period, each converted to the "
                    "company currency at the rate of its issue date.", "money"),
    "mrr": ("MRR", "Monthly recurring revenue on the period's last day: every subscription active that day, "
            "amount ÷ months of its billing period, at that day's rate.", "money"),
    "arr": ("ARR", "Annual recurring revenue: 12 × MRR.", "money"),
    "won": ("Deals won", "Deals whose status became won in the period (closed_at in the period).", "count"),
    "lost": ("Deals lost", "Deals whose status became lost in the period.", "count"),
    "won_amount": ("Won amount", "Sum of the amounts of the deals won in the period, converted at the period's "
                   "last day.", "money"),
    "win_rate": ("Win rate", "Won ÷ (won + lost) among the deals closed in the period.", "ratio"),
    "average_deal": ("Average deal size", "Won amount ÷ deals won.", "money"),
    "cycle_days": ("Sales cycle", "Mean days from creation to close of the deals won in the period.", "days"),
    "open_deals": ("Open deals", "Deals open now.", "count"),
    "velocity_per_day": ("Pipeline velocity", "Open deals × win rate × average deal size ÷ sales cycle days: "
                         "revenue the pipeline makes per day.", "money"),
    "prospective_customers": ("Prospective customers", "Accounts with an open deal (lead-converted deals "
                              "included) that never placed a non-cancelled order; now.", "count"),
    "new_customers": ("New customers", "Accounts whose first purchase — the earliest non-cancelled order or won "
                      "deal, by anyone — falls in the period.", "count"),
    "retained_customers": ("Retained customers", "Accounts that ordered in the previous period and again in "
                           "this one.", "count"),
    "retention_rate": ("Retention rate", "Retained customers ÷ customers who ordered in the previous period.",
                       "ratio"),
    "open_leads": ("Open leads", "Leads whose status is new, contacted or qualified now.", "count"),
    "new_leads": ("New leads", "Leads created in the period.", "count"),
    "sales_calls": ("Sales calls", "Phone interactions in the period logged by users with a selling role.",
                    "count"),
    "calls_per_lead": ("Sales calls per lead", "Sales calls ÷ new leads.", "number"),
    "proposals": ("Proposals given", "Quotes sent (sent_at) in the period.", "count"),
}
SNAPSHOT = frozenset({"open_deals", "open_leads", "prospective_customers"})
TILES = ("new_revenue", "won_amount", "win_rate", "average_deal", "cycle_days", "velocity_per_day", "new_customers",
         "retained_customers", "retention_rate", "prospective_customers", "mrr", "arr", "open_leads", "sales_calls",
         "calls_per_lead", "proposals")
TREND = ("new_revenue", "won_amount", "new_customers", "win_rate")
TREND_PERIODS = 12


def _blank() -> dict[str, Any]:
    return dict.fromkeys(DEFINITIONS)


def figures_for(*, actor: User, scope: Scope, period: Period, by_owner: bool = False,
                new_customers_known: int | None = None, snapshots: bool = True) -> dict[Any, dict[str, Any]]:
    """Every figure of ``DEFINITIONS`` per owner (``by_owner``) or under ``TOTAL``.

    Per owner, customers are the owner's (a customer two reps sold to counts for both), so the
    total row is computed on its own, never summed from the reps'."""
    parts: list[dict[Any, Any]] = [
        deal_figures(actor=actor, scope=scope, period=period, by_owner=by_owner),
        activity_figures(actor=actor, scope=scope, period=period, by_owner=by_owner),
        retained_customers(actor=actor, scope=scope, period=period, by_owner=by_owner),
        recurring_revenue(actor=actor, scope=scope, period=period, by_owner=by_owner),
    ]
    out: dict[Any, dict[str, Any]] = {}
    for part in parts:
        for key, values in part.items():
            out.setdefault(key, _blank()).update(values)
    fresh = ({TOTAL: new_customers_known} if new_customers_known is not None and not by_owner
             else new_customers(actor=actor, scope=scope, period=period, by_owner=by_owner))
    for name, values in (("new_revenue", new_revenue(actor=actor, scope=scope, period=period, by_owner=by_owner)),
                         ("new_customers", fresh),
                         ("prospective_customers", prospective_customers(actor=actor, scope=scope, by_owner=by_owner)
                          if snapshots else {})):
        for key, value in values.items():
            out.setdefault(key, _blank())[name] = value
    zero_when_absent = {k for k, v in DEFINITIONS.items() if v[2] in ("count", "money")}
    for row in out.values():
        for key in zero_when_absent:
            if row.get(key) is None and key not in ("average_deal", "velocity_per_day"):
                row[key] = Decimal(0) if DEFINITIONS[key][2] == "money" else 0
    return out


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    values: dict[str, Any]


@dataclass
class Dashboard:
    period: Period
    previous: Period
    scope: Scope
    currency: str
    total: dict[str, Any]
    before: dict[str, Any]
    reps: list[tuple[User, dict[str, Any]]] = field(default_factory=list)
    unassigned: dict[str, Any] | None = None
    stages: list[StageStep] = field(default_factory=list)
    pipeline: Pipeline | None = None
    trend: list[TrendPoint] = field(default_factory=list)

    def change(self, key: str) -> Any:
        """This period's value minus the previous period's (None for snapshots or unknowns)."""
        if key in SNAPSHOT:
            return None
        now, then = self.total.get(key), self.before.get(key)
        if now is None or then is None:
            return None
        return now - then


def _trend_values(actor: User, scope: Scope, period: Period) -> dict[str, Any]:
    deals = deal_figures(actor=actor, scope=scope, period=period, with_open=False)[TOTAL]
    return {
        "new_revenue": new_revenue(actor=actor, scope=scope, period=period)[TOTAL],
        "won_amount": deals["won_amount"],
        "win_rate": deals["win_rate"],
    }


def metrics_dashboard(*, actor: User, period: Period, scope: Scope, pipeline: Pipeline | None = None,
                      per_rep: bool = True, trend: bool = True) -> Dashboard:
    """Everything the page shows: totals now and in the previous period, the per-rep table, the
    stage funnel of ``pipeline`` (default: the default pipeline) and the trend of the last 12 periods."""
    permissions.require_model_perm(actor, Opportunity, "view")
    previous = period.previous()
    periods = period.back(TREND_PERIODS if trend else 2)
    # New customers of every period in one query (one probe per account, not per purchase).
    fresh = new_customers_series(actor=actor, scope=scope, periods=periods)
    total = figures_for(actor=actor, scope=scope, period=period, new_customers_known=fresh[-1])[TOTAL]
    before = figures_for(actor=actor, scope=scope, period=previous, new_customers_known=fresh[-2],
                         snapshots=False)[TOTAL]  # snapshots of now are the same in both: not again
    board = Dashboard(period=period, previous=previous, scope=scope, currency=company_currency(), total=total,
                      before=before)
    if per_rep:
        grouped = figures_for(actor=actor, scope=scope, period=period, by_owner=True)
        board.reps = [(rep, grouped.pop(rep.pk, None) or _zero_row()) for rep in reps_in(actor, scope)]
        rest = [row for key, row in grouped.items() if key is None]
        board.unassigned = rest[0] if rest else None
    board.pipeline = pipeline or Pipeline.objects.filter(is_default=True).first()
    if board.pipeline is not None:
        board.stages = stage_conversion(actor=actor, scope=scope, period=period, pipeline=board.pipeline)
    if trend:
        points = []
        for p, customers in zip(periods, fresh, strict=True):
            if p == period:
                values = {k: total[k] for k in TREND}
            elif p == previous:
                values = {k: before[k] for k in TREND}
            else:
                values = {**_trend_values(actor, scope, p), "new_customers": customers}
            points.append(TrendPoint(period=p, values=values))
        board.trend = points
    return board


def _zero_row() -> dict[str, Any]:
    row = _blank()
    for key, (_, _, kind) in DEFINITIONS.items():
        if kind == "count":
            row[key] = 0
        elif kind == "money" and key not in ("average_deal", "velocity_per_day"):
            row[key] = Decimal(0)
    return row


def _id(raw: Any, name: str, actor: User) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if name == "rep" and text == "me":
        return actor.pk
    if not text.isdigit() or len(text) > 12:
        raise ValidationFailed(f"{name} must be an id, got {text[:20]!r}.", field_errors={name: ["An id."]})
    return int(text)


def metrics_request(actor: User, params: Mapping[str, Any]) -> tuple[Period, Scope, Pipeline | None]:
    """The period, scope and pipeline that a page, CSV or API query string asks for, checked:
    ``period`` (month|quarter|year|custom), ``day`` or ``start``/``end``, ``rep`` (id or ``me``),
    ``team``, ``pipeline``. Anything malformed is a ``ValidationFailed`` naming the parameter."""
    permissions.require_model_perm(actor, Opportunity, "view")
    period = period_resolve(str(params.get("period") or "month")[:10], day=params.get("day") or None,
                            start=params.get("start") or None, end=params.get("end") or None)
    scope = scope_check(actor, owner_id=_id(params.get("rep"), "rep", actor),
                        team_id=_id(params.get("team"), "team", actor))
    pipeline_id = _id(params.get("pipeline"), "pipeline", actor)
    pipeline = None
    if pipeline_id is not None:
        pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
        if pipeline is None:
            raise ValidationFailed(f"There is no pipeline {pipeline_id}.", field_errors={"pipeline": ["No such one."]})
    return period, scope, pipeline


# --- the first part's API, kept for its callers ---------------------------------------------------


@dataclass(frozen=True)
class SalesMetrics:
    start: dt.date
    end: dt.date
    currency: str
    won: int
    lost: int
    open_opportunities: int
    open_leads: int
    win_rate: float | None
    average_deal: Decimal | None
    cycle_days: float | None
    velocity_per_day: Decimal | None
    proposals: int | None


def sales_metrics(*, actor: User, period: str, day: dt.date) -> SalesMetrics:
    """The deal and lead figures of the ``period`` containing ``day``, for everything ``actor`` reads."""
    permissions.require_model_perm(actor, Opportunity, "view")
    p = period_resolve(period, day=day)
    scope = scope_check(actor)
    deals = deal_figures(actor=actor, scope=scope, period=p)[TOTAL]
    activity = activity_figures(actor=actor, scope=scope, period=p).get(TOTAL, {})
    return SalesMetrics(start=p.start, end=p.end, currency=company_currency(), won=deals["won"], lost=deals["lost"],
                        open_opportunities=deals["open_deals"], open_leads=activity.get("open_leads", 0),
                        win_rate=deals["win_rate"], average_deal=deals["average_deal"],
                        cycle_days=deals["cycle_days"], velocity_per_day=deals["velocity_per_day"],
                        proposals=activity.get("proposals", 0))


__all__ = ["DEFINITIONS", "OPEN_LEAD_STATUSES", "Dashboard", "SalesMetrics", "metrics_dashboard", "metrics_request",
           "sales_metrics"]
