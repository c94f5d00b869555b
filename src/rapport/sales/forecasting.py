"""Reading the forecast: weighted pipeline and forecast categories per period, against quotas.

Conventions (one place, so the page, the API and the CSV agree):

* an open deal counts in the period of its ``expected_close_date``, a won deal in the period of
  its ``closed_at`` (category "closed"); lost and "omitted" deals count nowhere;
* categories are cumulative the way sales teams read them: *closed* = won; *commit* = closed +
  open deals in commit; *best case* = commit + open deals in best case; *pipeline* = every open
  deal plus closed. ``weighted`` is the sum of amount × probability of the open deals;
* amounts are converted to the company currency at the exchange rate of the period's last day
  (``commerce.pricing.convert``; no rate is an error, never 1), after summing per currency in SQL;
* row access is the opportunities' (``core.permissions.readable``): a rep sees their own and
  their team's deals, a manager their teams'.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from rapport.commerce.pricing import company_currency, convert
from rapport.core import permissions
from rapport.core.errors import ValidationFailed
from rapport.core.models import User
from rapport.sales.choices import ForecastCategory, OpportunityStatus
from rapport.sales.models import Opportunity
from rapport.sales.models_forecast import PeriodKind, Quota


def period_bounds(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and the last day of the ``kind`` period (month/quarter/year) containing ``day``."""
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
        months = 1
    elif kind == PeriodKind.QUARTER:
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        months = 3
    elif kind == PeriodKind.YEAR:
        start = day.replace(month=1, day=1)
        months = 12
    else:
        raise ValidationFailed(f"{kind!r} is not a period; use month, quarter or year.",
                               field_errors={"period": ["Use month, quarter or year."]})
    year, month = divmod(start.month - 1 + months, 12)
    return start, dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


@dataclass
class ForecastRow:
    """One rep's numbers for the period, in the company currency."""

    owner_id: int | None
    closed: Decimal = Decimal(0)
    commit: Decimal = Decimal(0)
    best_case: Decimal = Decimal(0)
    pipeline: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    quota: Decimal | None = None
    open_count: int = 0

    @property
    def attainment(self) -> Decimal | None:
        """Closed as a fraction of quota (None without a positive quota)."""
        return self.closed / self.quota if self.quota else None


@dataclass
class Forecast:
    period: str
    start: dt.date
    end: dt.date
    currency: str
    rows: list[ForecastRow] = field(default_factory=list)

    @property
    def total(self) -> ForecastRow:
        out = ForecastRow(owner_id=None, quota=Decimal(0))
        for row in self.rows:
            for name in ("closed", "commit", "best_case", "pipeline", "weighted"):
                setattr(out, name, getattr(out, name) + getattr(row, name))
            out.open_count += row.open_count
            out.quota = (out.quota or 0) + (row.quota or 0)
        return out


def forecast_for(*, actor: User, period: str = PeriodKind.MONTH, day: dt.date, pipeline_id: int | None = None,
                 team_id: int | None = None, owner_id: int | None = None) -> Forecast:
    """The period's forecast per rep, for the deals ``actor`` may read (optionally one pipeline/team/rep)."""
    permissions.require_model_perm(actor, Opportunity, "view")
    start, end = period_bounds(period, day)
    target = company_currency()
    qs = permissions.readable(actor, Opportunity.objects.all())
    if pipeline_id is not None:
        qs = qs.filter(pipeline_id=pipeline_id)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    in_period = (Q(status=OpportunityStatus.OPEN, expected_close_date__range=(start, end))
                 | Q(status=OpportunityStatus.WON, closed_at__date__range=(start, end)))
    grouped = (
        qs.filter(in_period).exclude(forecast_category=ForecastCategory.OMITTED)
        .values("owner_id", "currency", "status", "forecast_category")
        .annotate(total=Sum("amount"), weighted_total=Sum(F("amount") * F("probability")), n=Count("id"))
        .order_by()
    )
    rows: dict[int | None, ForecastRow] = defaultdict(lambda: ForecastRow(owner_id=None))
    for g in grouped:
        row = rows[g["owner_id"]]
        row.owner_id = g["owner_id"]
        amount = convert(amount=g["total"] or Decimal(0), from_currency=g["currency"], to_currency=target, on=end)
        if g["status"] == OpportunityStatus.WON:
            row.closed += amount
            continue
        weighted = convert(amount=(g["weighted_total"] or Decimal(0)) / 100, from_currency=g["currency"],
                           to_currency=target, on=end)
        row.weighted += weighted
        row.pipeline += amount
        row.open_count += g["n"]
        if g["forecast_category"] == ForecastCategory.COMMIT:
            row.commit += amount
            row.best_case += amount
        elif g["forecast_category"] == ForecastCategory.BEST_CASE:
            row.best_case += amount
    for row in rows.values():
        row.commit += row.closed
        row.best_case += row.closed
        row.pipeline += row.closed
    quotas = Quota.objects.filter(user_id__in=[k for k in rows if k is not None], period=period,
                                  period_start=start)
    for quota in quotas:
        rows[quota.user_id].quota = convert(amount=quota.amount, from_currency=quota.currency,
                                            to_currency=target, on=end)
    return Forecast(period=period, start=start, end=end, currency=target,
                    rows=sorted(rows.values(), key=lambda r: r.owner_id or 0))
