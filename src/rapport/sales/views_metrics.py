"""The sales metrics page (``/sales/metrics/``) and its CSV (``/sales/metrics.csv``).

The query string is the page's whole state (period, day or start/end, rep, team, pipeline), so a
view can be bookmarked; htmx swaps only ``#metrics-results`` when the form changes. Parameters are
checked by ``metrics.metrics_request`` (bad ones: the form with the reason, status 422); who may
see whose figures by ``metrics_scope.scope_check`` (403 page otherwise).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from rapport.core.charts import svg_chart, svg_funnel
from rapport.core.errors import ValidationFailed
from rapport.core.models import Team, User
from rapport.core.views import domain_view, htmx_partial
from rapport.sales.metrics import DEFINITIONS, SNAPSHOT, TILES, TREND, Dashboard, metrics_dashboard, metrics_request
from rapport.sales.metrics_output import dashboard_csv
from rapport.sales.metrics_scope import PERIOD_KINDS, Scope, reps_in, visible_team_ids
from rapport.sales.models import Pipeline


def _choices(actor: User) -> dict[str, Any]:
    teams = visible_team_ids(actor)
    team_qs = Team.objects.order_by("name") if teams is None else Team.objects.filter(pk__in=teams).order_by("name")
    return {"teams": list(team_qs[:200]), "reps": reps_in(actor, Scope()), "periods": PERIOD_KINDS,
            "pipelines": list(Pipeline.objects.filter(is_active=True).order_by("name")[:50])}


def fmt(value: Any, kind: str, *, signed: bool = False) -> str:
    """A figure as the page shows it: money with two decimals, ratios in per cent, days with one."""
    if value is None:
        return "—"
    sign = "+" if signed and value > 0 else ""
    if kind == "money":
        return f"{sign}{value:,.2f}"
    if kind == "ratio":
        return f"{sign}{value * 100:.1f} %" if not signed else f"{sign}{value * 100:.1f} pt"
    if kind in ("days", "number"):
        return f"{sign}{value:,.1f}" if kind == "days" else f"{sign}{value:,.2f}"
    return f"{sign}{value:,}"


def _tiles(board: Dashboard) -> list[dict[str, Any]]:
    out = []
    for key in TILES:
        label, text, kind = DEFINITIONS[key]
        change = board.change(key)
        out.append({"key": key, "label": label, "definition": text, "kind": kind,
                    "value": fmt(board.total.get(key), kind), "change": fmt(change, kind, signed=True),
                    "snapshot": key in SNAPSHOT,
                    "direction": "" if change is None else "up" if change > 0 else "down" if change < 0 else "same"})
    return out


def _charts(board: Dashboard) -> dict[str, Any]:
    labels = [p.period.label for p in board.trend]
    # Safe: core.charts escapes every label and writes only numbers otherwise.
    trend = [(DEFINITIONS[key][0], mark_safe(svg_chart(  # noqa: S308
        labels, [p.values.get(key) or 0 for p in board.trend], kind="bar" if key == "new_customers" else "line",
        title=DEFINITIONS[key][0]))) for key in TREND]
    funnel = mark_safe(svg_funnel([s.name for s in board.stages], [s.reached for s in board.stages],  # noqa: S308
                                  [s.ratio for s in board.stages], title="Stage conversion"))
    return {"trend_charts": trend, "funnel_svg": funnel}


@domain_view
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    context: dict[str, Any] = {"params": params, "error": None, "errors": {}, **_choices(request.user)}
    try:
        period, scope, pipeline = metrics_request(request.user, params)
        board = metrics_dashboard(actor=request.user, period=period, scope=scope, pipeline=pipeline)
    except ValidationFailed as exc:
        context.update(error=exc.detail, errors=exc.field_errors)
    else:
        context.update(board=board, tiles=_tiles(board), columns=[DEFINITIONS[k][0] for k in TILES],
                       rows=[(user, [fmt(row.get(k), DEFINITIONS[k][2]) for k in TILES]) for user, row in board.reps],
                       total_row=[fmt(board.total.get(k), DEFINITIONS[k][2]) for k in TILES],
                       csv_query=params.urlencode(), **_charts(board))
    template = "sales/partials/metrics_results.html" if htmx_partial(request, "metrics-results") \
        else "sales/metrics.html"
    return render(request, template, context, status=422 if context["error"] else 200)


@domain_view
@require_GET
def metrics_csv_view(request: HttpRequest) -> HttpResponse:
    try:
        period, scope, pipeline = metrics_request(request.user, request.GET)
        board = metrics_dashboard(actor=request.user, period=period, scope=scope, pipeline=pipeline, trend=False)
    except ValidationFailed as exc:
        return HttpResponse(exc.detail, status=exc.status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(dashboard_csv(board), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sales-metrics-{period.start.isoformat()}.csv"'
    return response
