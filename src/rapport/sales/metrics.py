"""Sales metrics for a period (first part: the opportunity- and lead-based figures).

Definitions (the dashboard, the API and the CSV must use these):

* win rate = won / (won + lost) among deals closed in the period (None when none closed);
* average deal size = mean amount of deals won in the period, company currency at the period's end;
* sales cycle = mean days from ``created_at`` to ``closed_at`` of deals won in the period;
* pipeline velocity = open deals × win rate × average deal size / cycle days (per day);
* open leads = leads with status new/contacted/qualified now;
* proposals = quotes with ``sent_at`` in the period; None while the Quote model does not exist.

Row access is the opportunities' and leads' own (``core.permissions.readable``).
Not yet here: customers (prospective/new/retained), calls, new and recurring revenue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, Sum

from rapport.commerce.pricing import company_currency, convert
from rapport.core import permissions
from rapport.core.models import User
from rapport.sales.choices import LeadStatus, OpportunityStatus
from rapport.sales.forecasting import period_bounds
from rapport.sales.models import Lead, Opportunity

OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)


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


def proposals_given(*, actor: User, start: dt.date, end: dt.date) -> int | None:
    """Quotes sent in the period that ``actor`` may read; None until ``sales.Quote`` exists."""
    try:
        quote = apps.get_model("sales", "Quote")
    except LookupError:
        return None
    return permissions.readable(actor, quote.objects.filter(sent_at__date__range=(start, end))).count()


def sales_metrics(*, actor: User, period: str, day: dt.date) -> SalesMetrics:
    permissions.require_model_perm(actor, Opportunity, "view")
    start, end = period_bounds(period, day)
    target = company_currency()
    opps = permissions.readable(actor, Opportunity.objects.all())
    closed = opps.filter(closed_at__date__range=(start, end)).values("status", "currency").annotate(
        n=Count("id"), total=Sum("amount")).order_by()
    won = lost = 0
    won_total = Decimal(0)
    for g in closed:
        if g["status"] == OpportunityStatus.WON:
            won += g["n"]
            won_total += convert(amount=g["total"], from_currency=g["currency"], to_currency=target, on=end)
        elif g["status"] == OpportunityStatus.LOST:
            lost += g["n"]
    cycle_days = None
    if won:
        won_rows = opps.filter(status=OpportunityStatus.WON, closed_at__date__range=(start, end))
        spans = [(c - s).total_seconds() / 86400 for s, c in won_rows.values_list("created_at", "closed_at")]
        cycle_days = sum(spans) / len(spans)
    open_count = opps.filter(status=OpportunityStatus.OPEN).count()
    open_leads = permissions.readable(actor, Lead.objects.filter(status__in=OPEN_LEAD_STATUSES)).count()
    win_rate = won / (won + lost) if won + lost else None
    average = won_total / won if won else None
    velocity = None
    if win_rate is not None and average is not None and cycle_days:
        velocity = Decimal(open_count) * Decimal(str(win_rate)) * average / Decimal(str(cycle_days))
    return SalesMetrics(start=start, end=end, currency=target, won=won, lost=lost, open_opportunities=open_count,
                        open_leads=open_leads, win_rate=win_rate, average_deal=average, cycle_days=cycle_days,
                        velocity_per_day=velocity, proposals=proposals_given(actor=actor, start=start, end=end))
