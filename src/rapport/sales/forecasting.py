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
from rapport.sales.models_forecast import ForecastAdjustment, PeriodKind, Quota


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


@dataclass(frozen=True)
class StatisticalForecast:
    """Won revenue per month (company currency) and Holt-Winters forecasts with an interval."""

    months: list[dt.date]
    won: list[Decimal]
    ahead: list[dt.date]
    mean: list[float]
    lower: list[float]
    upper: list[float]
    level: float
    mae: float | None
    smape: float | None


def won_history(*, actor: User, first: dt.date, last: dt.date) -> tuple[list[dt.date], list[Decimal]]:
    """Won amounts per calendar month from ``first``'s month to ``last``'s, zeros included, converted
    at each month's last day; only the deals ``actor`` may read."""
    from django.db.models.functions import TruncMonth

    target = company_currency()
    start, _ = period_bounds(PeriodKind.MONTH, first)
    _, end = period_bounds(PeriodKind.MONTH, last)
    qs = permissions.readable(actor, Opportunity.objects.filter(
        status=OpportunityStatus.WON, closed_at__date__range=(start, end)))
    grouped = qs.annotate(month=TruncMonth("closed_at")).values("month", "currency").annotate(
        total=Sum("amount")).order_by()
    by_month: dict[dt.date, Decimal] = defaultdict(Decimal)
    for g in grouped:
        month = g["month"].date() if isinstance(g["month"], dt.datetime) else g["month"]
        by_month[month] += convert(amount=g["total"], from_currency=g["currency"], to_currency=target,
                                   on=period_bounds(PeriodKind.MONTH, month)[1])
    months, cursor = [], start
    while cursor <= end:
        months.append(cursor)
        cursor = period_bounds(PeriodKind.MONTH, cursor)[1] + dt.timedelta(days=1)
    return months, [by_month.get(m, Decimal(0)) for m in months]


def statistical_forecast(*, actor: User, first: dt.date, last: dt.date, horizon: int = 6,
                         seasonal: str = "additive", level: float = 0.9, backtest_origins: int = 6
                         ) -> StatisticalForecast:
    """Holt-Winters (12-month season) on the won history; a short history or a bad series is a
    ``ValidationFailed`` with the analytics' own message. The back-test uses the last origins only."""
    months, won = won_history(actor=actor, first=first, last=last)
    series = [float(v) for v in won]
    mean, lower, upper, mae, smape = _fitted(series, seasonal=seasonal, horizon=horizon, level=level,
                                             backtest_origins=backtest_origins)
    future, cursor = [], period_bounds(PeriodKind.MONTH, last)[1] + dt.timedelta(days=1)
    for _ in range(horizon):
        future.append(cursor)
        cursor = period_bounds(PeriodKind.MONTH, cursor)[1] + dt.timedelta(days=1)
    return StatisticalForecast(
        months=months, won=won, ahead=future, mean=mean, lower=lower, upper=upper, level=level, mae=mae, smape=smape,
    )


FIT_CACHE_SECONDS = 6 * 3600


def _fitted(series: list[float], *, seasonal: str, horizon: int, level: float, backtest_origins: int
            ) -> tuple[list[float], list[float], list[float], float | None, float | None]:
    """Fit, forecast and back-test ``series``, cached under a hash of the series and the options.

    Fitting (an optimiser per start, and one refit per back-test origin) takes seconds, and the
    page would pay it on every view. The key is the input itself, so a cached result is exactly
    what a fresh fit would return (a new won deal changes the series and so the key), and one
    user's cache entry only ever serves someone whose readable history is identical."""
    import hashlib
    import json

    from django.core.cache import cache

    from rapport.analytics.forecast import ForecastInputError, fit, rolling_origin

    key = "forecast-fit:" + hashlib.sha256(json.dumps(
        [series, seasonal, horizon, level, backtest_origins]).encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    try:
        model = fit(series, season_length=12, seasonal=seasonal)  # type: ignore[arg-type]
        ahead = model.forecast(horizon, level=level)
        test = rolling_origin(series, season_length=12, seasonal=seasonal,  # type: ignore[arg-type]
                              horizon=1, max_origins=backtest_origins) if len(series) > 24 else None
    except ForecastInputError as exc:
        raise ValidationFailed(str(exc), field_errors={"history": [str(exc)]}) from None
    result = ([float(v) for v in ahead.mean], [float(v) for v in ahead.lower], [float(v) for v in ahead.upper],
              test.mae if test else None, test.smape if test else None)
    cache.set(key, result, FIT_CACHE_SECONDS)
    return result


def forecast_adjust(*, actor: User, period: str, day: dt.date, category: str, amount: Decimal | str,
                    currency: str = "", user: User | None = None, team_id: int | None = None,
                    note: str = "") -> ForecastAdjustment:
    """Record a manager's figure for (period, rep or team, category); the reps' numbers are untouched.

    Only a manager of the rep's team (or of ``team_id``), or a superuser, may adjust; one figure per
    key, a later one replaces it (who/when/note are the latest adjuster's)."""
    from django.db import transaction

    from rapport.commerce.money import currency_clean, decimal_clean
    from rapport.core.audit import audit_record
    from rapport.core.errors import PermissionDenied

    if (user is None) == (team_id is None):
        raise ValidationFailed("Adjust either a rep's or a team's forecast, not both or neither.")
    if category not in ForecastCategory.values or category == ForecastCategory.OMITTED:
        raise ValidationFailed(f"{category!r} is not a forecast category.",
                               field_errors={"category": ["Use pipeline, best_case, commit or closed."]})
    target_team = team_id if team_id is not None else getattr(user, "team_id", None)
    if not actor.is_superuser and target_team not in permissions.managed_team_ids(actor):
        raise PermissionDenied("Only a manager of that team may adjust its forecast.")
    value = decimal_clean(amount, field="amount", places=4)
    code = currency_clean(currency or company_currency())
    start, _ = period_bounds(period, day)
    key = {"user": user, "team_id": None} if user is not None else {"user": None, "team_id": team_id}
    with transaction.atomic():
        adjustment, created = ForecastAdjustment.objects.update_or_create(
            period=period, period_start=start, category=category, **key,
            defaults={"amount": value, "currency": code, "adjusted_by": actor, "note": note},
        )
        audit_record(actor=actor, instance=adjustment, action="create" if created else "update",
                     changes={"amount": [None, str(value)], "note": [None, note]})
    return adjustment
