"""Web pages of the forecast: the period table per rep (quota, closed, commit, best case, pipeline,
weighted, attainment, gap) with managers' adjustments beside the reps' numbers (htmx inline form),
the statistical forecast chart with its back-test error, the CSV export and the quota page.

Reads go through ``selectors_forecast`` (scope and row access decided there); writes through
``forecasting.forecast_adjust`` and ``services_forecast.quota_set``, which refuse anyone but a
manager of the rep's team. A refused write shows its reason and changes nothing.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.commerce.pricing import company_currency
from rapport.core import permissions
from rapport.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import User
from rapport.core.views import domain_view, error_page
from rapport.sales import forecasting, selectors_forecast, services_forecast
from rapport.sales.choices import ForecastCategory
from rapport.sales.forecast_chart import chart_of
from rapport.sales.models import Opportunity, Pipeline
from rapport.sales.models_forecast import PeriodKind

HISTORY_MONTHS = 36
HORIZON = 6
ADJUSTABLE = [(c.value, c.label) for c in ForecastCategory if c != ForecastCategory.OMITTED]


def _table_from(request: HttpRequest) -> tuple[selectors_forecast.ForecastTable, dict[str, Any]]:
    params = request.GET
    period, day = selectors_forecast.parse_period(params.get("period", "")[:10], params.get("day", "")[:10])
    scope = selectors_forecast.scope_resolve(actor=request.user, kind=params.get("scope", "")[:10],
                                             team_id=params.get("team"), rep_id=params.get("rep"),
                                             pipeline_id=params.get("pipeline"))
    table = selectors_forecast.forecast_table(actor=request.user, period=period, day=day, scope=scope)
    return table, {"period": period, "day": day}


def _statistical(actor: User) -> dict[str, Any]:
    """The chart of the next months (or the reason there is none, e.g. too short a history)."""
    try:
        first, last = selectors_forecast.history_window(actor=actor, months=HISTORY_MONTHS)
    except ValidationFailed as exc:
        return {"stat_error": exc.detail}
    try:
        result = forecasting.statistical_forecast(actor=actor, first=first, last=last, horizon=HORIZON)
    except ValidationFailed as exc:
        return {"stat_error": exc.detail}
    except DomainError as exc:  # e.g. a missing exchange rate
        return {"stat_error": exc.detail}
    rows = list(zip(result.ahead, result.mean, result.lower, result.upper, strict=True))
    return {"stat": result, "chart": chart_of(result), "stat_rows": rows, "level_percent": round(result.level * 100)}


@domain_view
@require_GET
def forecast_view(request: HttpRequest) -> HttpResponse:
    try:
        table, picked = _table_from(request)
    except ValidationFailed as exc:
        return error_page(request, exc, 400)
    period, day = picked["period"], picked["day"]
    context = {
        "table": table, "period": period, "day": day, "params": request.GET,
        "periods": PeriodKind.choices, "scopes": selectors_forecast.SCOPES,
        "teams": selectors_forecast.visible_teams(request.user), "reps": selectors_forecast.visible_reps(request.user),
        "pipelines": Pipeline.objects.order_by("name")[:100],
        "previous": selectors_forecast.shift(period, day, -1), "next": selectors_forecast.shift(period, day, 1),
        "categories": ADJUSTABLE, "query": request.GET.urlencode(),
        "is_manager": bool(request.user.is_administrator or permissions.managed_team_ids(request.user)),
        **_statistical(request.user),
    }
    return render(request, "sales/forecast.html", context)


@domain_view
@require_GET
def forecast_csv_view(request: HttpRequest) -> HttpResponse:
    try:
        table, picked = _table_from(request)
    except ValidationFailed as exc:
        return error_page(request, exc, 400)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    start = table.forecast.start.isoformat()
    response["Content-Disposition"] = f'attachment; filename="forecast-{picked["period"]}-{start}.csv"'
    writer = csv.writer(response)
    writer.writerow(["rep", "period", "start", "currency", "quota", "closed", "commit", "best_case", "pipeline",
                     "weighted_pipeline", "attainment_percent", "gap", "adjusted_commit", "adjusted_best_case"])

    def cell(value: Decimal | None) -> str:
        return "" if value is None else f"{value:.2f}"

    for row in [*table.rows, table.total]:
        n = row.numbers
        name = str(row.user) if row.user else "Total"
        writer.writerow([_csv_safe(name), picked["period"], start, table.forecast.currency, cell(n.quota),
                         cell(n.closed), cell(n.commit), cell(n.best_case), cell(n.pipeline), cell(n.weighted),
                         "" if row.attainment_percent is None else str(row.attainment_percent), cell(row.gap),
                         cell(row.adjustments["commit"].amount) if "commit" in row.adjustments else "",
                         cell(row.adjustments["best_case"].amount) if "best_case" in row.adjustments else ""])
    return response


def _csv_safe(text: str) -> str:
    """A name that a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@domain_view
@require_POST
def forecast_adjust_view(request: HttpRequest) -> HttpResponse:
    """The inline adjustment form (htmx): record the manager's figure and return the row's
    adjustment cell; a refusal comes back in the same cell and nothing is written."""
    post = request.POST
    raw_user, raw_team = post.get("user", "")[:20], post.get("team", "")[:20]
    try:
        period, day = selectors_forecast.parse_period(post.get("period", "")[:10], post.get("day", "")[:10])
        if raw_user:
            scope = selectors_forecast.scope_resolve(actor=request.user, kind="rep", rep_id=raw_user)
        else:
            scope = selectors_forecast.scope_resolve(actor=request.user, kind="team", team_id=raw_team or None)
    except NotFound as exc:
        return HttpResponse(exc.detail, status=404)
    except PermissionDenied as exc:
        return HttpResponse(exc.detail, status=403)
    except ValidationFailed as exc:
        return HttpResponse(exc.detail, status=422)
    error = ""
    try:
        forecasting.forecast_adjust(
            actor=request.user, period=period, day=day, category=post.get("category", "")[:20],
            amount=post.get("amount", "").strip()[:30], user=scope.rep,
            team_id=scope.team.pk if scope.rep is None and scope.team else None, note=post.get("note", "")[:1000])
    except PermissionDenied as exc:
        return HttpResponse(exc.detail, status=403)
    except DomainError as exc:
        error = exc.detail
    if not getattr(request, "htmx", False):
        (messages.error if error else messages.success)(request, error or "Adjustment saved.")
        return redirect(f"/forecast/?{post.get('back', '')[:500]}")
    table = selectors_forecast.forecast_table(actor=request.user, period=period, day=day, scope=scope)
    row = next((r for r in table.rows if scope.rep is not None and r.user and r.user.pk == scope.rep.pk), table.total)
    return render(request, "sales/partials/forecast_adjustments.html", {
        "row": row, "period": period, "day": day, "categories": ADJUSTABLE, "error": error,
        "team_id": table.scope.team.pk if table.scope.team else "", "query": post.get("back", "")[:500],
    }, status=422 if error else 200)


@domain_view
@require_http_methods(["GET", "POST"])
def quota_view(request: HttpRequest) -> HttpResponse:
    """Managers set each rep's quota for a period; reps are refused (403)."""
    permissions.require_model_perm(request.user, Opportunity, "view")
    if not (request.user.is_administrator or permissions.managed_team_ids(request.user)):
        raise PermissionDenied("Only sales managers set quotas.")
    source = request.POST if request.method == "POST" else request.GET
    try:
        period, day = selectors_forecast.parse_period(source.get("period", "")[:10], source.get("day", "")[:10])
    except ValidationFailed as exc:
        return error_page(request, exc, 400)
    errors: dict[str, str] = {}
    if request.method == "POST":
        saved = 0
        # All rows or none: one refused amount rolls the others back, so the page never half-saves.
        with transaction.atomic():
            for key, raw in request.POST.items():
                if not key.startswith("amount_") or not raw.strip():
                    continue
                rep = selectors_forecast.rep_get(actor=request.user, pk=key.removeprefix("amount_")[:20])
                try:
                    services_forecast.quota_set(actor=request.user, user=rep, period=period, day=day,
                                                amount=raw.strip()[:30], currency=request.POST.get("currency", "")[:3])
                    saved += 1
                except ValidationFailed as exc:
                    errors[str(rep.pk)] = exc.detail
                except PermissionDenied:
                    raise NotFound("No such rep.") from None  # a rep the manager may see but not manage
            if errors:
                transaction.set_rollback(True)
        if not errors:
            messages.success(request, f"{saved} quota(s) saved.")
            return redirect(f"/forecast/quotas/?period={period}&day={day.isoformat()}")
    rows = selectors_forecast.quota_rows(actor=request.user, period=period, day=day)
    start, end = forecasting.period_bounds(period, day)
    return render(request, "sales/forecast_quotas.html", {
        "rows": [(u, q, errors.get(str(u.pk), ""), request.POST.get(f"amount_{u.pk}", "")) for u, q in rows],
        "period": period, "day": day, "start": start, "end": end, "periods": PeriodKind.choices,
        "currency": company_currency(), "has_errors": bool(errors),
    }, status=422 if errors else 200)
