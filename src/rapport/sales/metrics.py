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
from rapport.sales.metrics_deals import TOTAL, StageStep, deal_figures, deal_series, stage_conversion, velocity
from rapport.sales.metrics_revenue import new_revenue, new_revenue_series, recurring_revenue
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


def figures_for(*, actor: User, scope: Scope, period: Period, by_owner: bool = False, with_total: bool = False,
                new_customers_known: int | None = None, snapshots: bool = True,
                with_open: bool = True) -> dict[Any, dict[str, Any]]:
    """Every figure of ``DEFINITIONS`` per owner (``by_owner``) or under ``TOTAL``.

    Per owner, customers are the owner's (a customer two reps sold to counts for both), so the
    total row's customer counts are computed on their own, never summed from the reps'.
    ``with_total`` (with ``by_owner``) adds that ``TOTAL`` row: the counts and sums over deals,
    invoices, leads, calls, quotes and subscriptions are added up from the owner groups (which
    partition the rows in scope), so only the distinct-customer counts cost a query of their own.
    ``with_open=False`` leaves the open deals (a snapshot of now) uncounted: 0, velocity unknown."""
    both = by_owner and with_total
    parts: list[dict[Any, Any]] = [
        deal_figures(actor=actor, scope=scope, period=period, by_owner=by_owner, with_open=with_open,
                     with_total=both),
        activity_figures(actor=actor, scope=scope, period=period, by_owner=by_owner, with_total=both),
        retained_customers(actor=actor, scope=scope, period=period, by_owner=by_owner),
        recurring_revenue(actor=actor, scope=scope, period=period, by_owner=by_owner, with_total=both),
    ]
    if both:
        parts.append(retained_customers(actor=actor, scope=scope, period=period))
    out: dict[Any, dict[str, Any]] = {}
    for part in parts:
        for key, values in part.items():
            out.setdefault(key, _blank()).update(values)
    fresh = new_customers(actor=actor, scope=scope, period=period, by_owner=True) if by_owner else {}
    prospects = prospective_customers(actor=actor, scope=scope, by_owner=by_owner) if snapshots else {}
    if not by_owner or with_total:
        fresh[TOTAL] = (new_customers_known if new_customers_known is not None
                        else new_customers(actor=actor, scope=scope, period=period)[TOTAL])
        if snapshots and by_owner:
            prospects[TOTAL] = prospective_customers(actor=actor, scope=scope)[TOTAL]
    revenue = new_revenue(actor=actor, scope=scope, period=period, by_owner=by_owner, with_total=both)
    for name, values in (("new_revenue", revenue), ("new_customers", fresh), ("prospective_customers", prospects)):
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


def metrics_dashboard(*, actor: User, period: Period, scope: Scope, pipeline: Pipeline | None = None,
                      per_rep: bool = True, trend: bool = True) -> Dashboard:
    """Everything the page shows: totals now and in the previous period, the per-rep table, the
    stage funnel of ``pipeline`` (default: the default pipeline) and the trend of the last 12 periods.

    Each figure is computed once: the total row comes with the per-rep rows, the previous period
    skips the snapshots of now (it takes this period's open deals for its velocity), and the
    older trend periods are two grouped queries over their span, not two per period."""
    permissions.require_model_perm(actor, Opportunity, "view")
    previous = period.previous()
    periods = period.back(TREND_PERIODS if trend else 2)
    # New customers of every period in one query (one probe per account, not per purchase).
    fresh = new_customers_series(actor=actor, scope=scope, periods=periods)
    rows = figures_for(actor=actor, scope=scope, period=period, by_owner=per_rep, with_total=True,
                       new_customers_known=fresh[-1])
    total = rows.pop(TOTAL)
    before = figures_for(actor=actor, scope=scope, period=previous, new_customers_known=fresh[-2],
                         snapshots=False, with_open=False)[TOTAL]  # snapshots of now are the same in both
    before["open_deals"] = total["open_deals"]
    before["velocity_per_day"] = velocity(before)
    board = Dashboard(period=period, previous=previous, scope=scope, currency=company_currency(), total=total,
                      before=before)
    if per_rep:
        board.reps = [(rep, rows.pop(rep.pk, None) or _zero_row()) for rep in reps_in(actor, scope)]
        rest = [row for key, row in rows.items() if key is None]
        board.unassigned = rest[0] if rest else None
    board.pipeline = pipeline or Pipeline.objects.filter(is_default=True).first()
    if board.pipeline is not None:
        board.stages = stage_conversion(actor=actor, scope=scope, period=period, pipeline=board.pipeline)
    if trend:
        older = periods[:-2]
        deals = deal_series(actor=actor, scope=scope, periods=older) if older else []
        revenue = new_revenue_series(actor=actor, scope=scope, periods=older) if older else []
        points = [TrendPoint(period=p, values={"new_revenue": revenue[i], "won_amount": deals[i]["won_amount"],
                                               "win_rate": deals[i]["win_rate"], "new_customers": fresh[i]})
                  for i, p in enumerate(older)]
        points += [TrendPoint(period=previous, values={k: before[k] for k in TREND}),
                   TrendPoint(period=period, values={k: total[k] for k in TREND})]
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
