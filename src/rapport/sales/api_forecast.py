"""REST API of the forecast: the period table per rep (same numbers as the page and the CSV),
managers' adjustments, the statistical forecast, and quotas. Problem+json errors.

Who may do what is decided by ``selectors_forecast`` (scope), ``forecasting.forecast_adjust``
and ``services_forecast.quota_set`` (managers of the rep's team only), as on the page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.core.errors import ValidationFailed
from rapport.core.schemas import Id, InSchema
from rapport.sales import forecasting, selectors_forecast, services_forecast
from rapport.sales.models_forecast import ForecastAdjustment, Quota

router = Router(tags=["forecast"])

Period = Literal["month", "quarter", "year"]


class ForecastQuery(Schema):
    period: Period = "month"
    day: dt.date | None = None
    scope: Literal["me", "team", "rep", "all"] = "team"
    team: Id | None = None
    rep: Id | None = None
    pipeline: Id | None = None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _adjustment_out(adj: ForecastAdjustment) -> dict[str, Any]:
    return {"id": adj.pk, "user_id": adj.user_id, "team_id": adj.team_id, "period": adj.period,
            "period_start": adj.period_start, "category": adj.category, "amount": _money(adj.amount),
            "currency": adj.currency, "adjusted_by_id": adj.adjusted_by_id, "adjusted_at": adj.updated_at,
            "note": adj.note}


def _row_out(row: selectors_forecast.TableRow) -> dict[str, Any]:
    n = row.numbers
    return {"user_id": row.user.pk if row.user else None, "name": str(row.user) if row.user else "Total",
            "quota": _money(n.quota), "closed": _money(n.closed), "commit": _money(n.commit),
            "best_case": _money(n.best_case), "pipeline": _money(n.pipeline), "weighted_pipeline": _money(n.weighted),
            "open_count": n.open_count,
            "attainment_percent": None if row.attainment_percent is None else str(row.attainment_percent),
            "gap": _money(row.gap), "adjustments": [_adjustment_out(a) for a in row.adjustments.values()]}


@router.get("/forecast")
def forecast_get(request: HttpRequest, query: Query[ForecastQuery]) -> dict[str, Any]:
    """The period's forecast per rep of the scope (`me`, `team` (own or `team`), `rep`, `all`),
    in the company currency, with the managers' adjustments beside each row."""
    day = query.day or timezone.localdate()
    scope = selectors_forecast.scope_resolve(actor=request.user, kind=query.scope, team_id=query.team,
                                             rep_id=query.rep, pipeline_id=query.pipeline)
    table = selectors_forecast.forecast_table(actor=request.user, period=query.period, day=day, scope=scope)
    return {"period": query.period, "start": table.forecast.start, "end": table.forecast.end,
            "currency": table.forecast.currency, "scope": scope.kind,
            "team_id": scope.team.pk if scope.team else None,
            "rows": [_row_out(r) for r in table.rows], "total": _row_out(table.total)}


class AdjustmentIn(InSchema):
    period: Period = "month"
    day: dt.date | None = None
    category: Literal["pipeline", "best_case", "commit", "closed"]
    amount: Decimal = Field(max_digits=19, decimal_places=4)
    currency: str = Field("", max_length=3)
    user_id: Id | None = None
    team_id: Id | None = None
    note: str = Field("", max_length=1000)


@router.post("/forecast/adjustments", response={201: dict})
def forecast_adjustments_create(request: HttpRequest, payload: AdjustmentIn) -> Status:
    """A manager's figure for a rep (`user_id`) or a team (`team_id`); the rep's numbers stay."""
    user = selectors_forecast.rep_get(actor=request.user, pk=payload.user_id) if payload.user_id else None
    adj = forecasting.forecast_adjust(
        actor=request.user, period=payload.period, day=payload.day or timezone.localdate(),
        category=payload.category, amount=payload.amount, currency=payload.currency, user=user,
        team_id=payload.team_id, note=payload.note)
    return Status(201, _adjustment_out(adj))


class StatisticalQuery(Schema):
    first: dt.date | None = None
    last: dt.date | None = None
    horizon: int = Field(6, ge=1, le=24)
    level: float = Field(0.9, gt=0.5, lt=1)


@router.get("/forecast/statistical")
def forecast_statistical(request: HttpRequest, query: Query[StatisticalQuery]) -> dict[str, Any]:
    """Holt-Winters on the won revenue per month (default: the last 36 whole months), `horizon`
    months ahead with a `level` interval, and the one-month-ahead back-test error. The default
    history starts no earlier than the first won deal."""
    if query.first is None or query.last is None:
        default_first, default_last = selectors_forecast.history_window(actor=request.user)
    first, last = query.first or default_first, query.last or default_last
    if first > last:
        raise ValidationFailed("first must not be after last.", field_errors={"first": ["Before last."]})
    result = forecasting.statistical_forecast(actor=request.user, first=first, last=last, horizon=query.horizon,
                                              level=query.level)
    return {"history": [{"month": m, "won": _money(v)} for m, v in zip(result.months, result.won, strict=True)],
            "forecast": [{"month": m, "mean": round(mean, 2), "lower": round(lo, 2), "upper": round(hi, 2)}
                         for m, mean, lo, hi in zip(result.ahead, result.mean, result.lower, result.upper,
                                                    strict=True)],
            "level": result.level, "backtest": {"mae": result.mae, "smape": result.smape}}


class QuotaQuery(Schema):
    period: Period = "month"
    day: dt.date | None = None


def _quota_out(quota: Quota) -> dict[str, Any]:
    return {"id": quota.pk, "user_id": quota.user_id, "team_id": quota.team_id, "period": quota.period,
            "period_start": quota.period_start, "amount": _money(quota.amount), "currency": quota.currency}


@router.get("/quotas")
def quotas_list(request: HttpRequest, query: Query[QuotaQuery]) -> dict[str, Any]:
    """The period's quotas you may see: your own, your team's, the teams you manage."""
    rows = selectors_forecast.quota_list(actor=request.user, period=query.period,
                                         day=query.day or timezone.localdate())
    return {"items": [_quota_out(q) for q in rows]}


class QuotaIn(InSchema):
    user_id: Id
    period: Period = "month"
    day: dt.date | None = None
    amount: Decimal = Field(max_digits=19, decimal_places=4)
    currency: str = Field("", max_length=3)


@router.post("/quotas", response={200: dict, 201: dict})
def quotas_set(request: HttpRequest, payload: QuotaIn) -> Status:
    """Set a rep's quota for the period containing `day` (managers of the rep's team only)."""
    user = selectors_forecast.rep_get(actor=request.user, pk=payload.user_id)
    existed = Quota.objects.filter(user=user, period=payload.period, period_start=forecasting.period_bounds(
        payload.period, payload.day or timezone.localdate())[0]).exists()
    quota = services_forecast.quota_set(actor=request.user, user=user, period=payload.period,
                                        day=payload.day or timezone.localdate(), amount=payload.amount,
                                        currency=payload.currency)
    return Status(200 if existed else 201, _quota_out(quota))

