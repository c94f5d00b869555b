"""The OLAP page: pick measures and up to three dimensions, filter, drill down, pivot, chart,
export. Its state is the query string (so a view can be bookmarked and shared):
``m`` measures, ``d`` dimensions as ``name.level``, ``f`` filters as ``name.level:value``,
``pivot`` a dimension column, ``chart`` bar|line. Reads go through ``insights.selectors``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from rapport.analytics.olap import DEFAULT_REGISTRY
from rapport.core.errors import ValidationFailed
from rapport.core.views import domain_view, htmx_partial
from rapport.insights import selectors
from rapport.insights.charts import svg_chart
from rapport.insights.warehouse import WarehouseMissing, warehouse_info

DEFAULT = {"m": ["revenue"], "d": ["date.year"]}


def _spec_from(request: HttpRequest) -> dict[str, Any]:
    measures = request.GET.getlist("m") or DEFAULT["m"]
    dims = [d for d in request.GET.getlist("d") if d][:3] or ([] if "m" in request.GET else DEFAULT["d"])
    filters = []
    for raw in request.GET.getlist("f"):
        target, sep, value = raw.partition(":")
        name, dot, level = target.partition(".")
        if not (sep and dot):
            raise ValidationFailed(f"a filter is 'dimension.level:value', got {raw!r}")
        filters.append({"dimension": name, "level": level, "op": "eq", "value": value})
    return {"measures": measures, "dimensions": dims, "filters": filters, "limit": 5000}


def _url(params: dict[str, list[str]], **change: list[str]) -> str:
    merged = {**params, **change}
    return "?" + urlencode([(k, v) for k, values in merged.items() for v in values])


def _display(value: Any) -> Any:
    """A cell as the page shows it: ratios and averages (floats) to four decimals; the exports and
    the API keep full precision."""
    return round(value, 4) if isinstance(value, float) else value


FACT_LABELS = {
    "fact_order_line": _("Orders"),
    "fact_interaction": _("Interactions"),
    "fact_case": _("Service cases"),
    "fact_campaign_response": _("Campaigns"),
}


@domain_view
@require_GET
def olap_page(request: HttpRequest) -> HttpResponse:
    selectors.require_warehouse(request.user)
    params = {k: request.GET.getlist(k) for k in ("m", "d", "f", "pivot", "chart") if request.GET.getlist(k)}
    params.setdefault("m", DEFAULT["m"])
    if "d" not in params and "m" not in request.GET:
        params["d"] = DEFAULT["d"]
    context: dict[str, Any] = {
        "registry": DEFAULT_REGISTRY,
        # One query reads one fact table, so the measures are offered per fact.
        "measure_groups": [
            (label, [m for m in DEFAULT_REGISTRY.measures.values() if m.fact == fact])
            for fact, label in FACT_LABELS.items()
        ],
        "params": params,
        "info": warehouse_info(),
        "error": None,
        "dim_slots": (params.get("d", []) + ["", "", ""])[:3],
        "levels": [
            (f"{d.name}.{lv.name}", f"{d.label} → {lv.label}")
            for d in DEFAULT_REGISTRY.dimensions.values()
            for lv in d.levels
        ],
    }
    try:
        spec_data = _spec_from(request)
        # Filter values from the page are text; years and other integer levels compare as numbers.
        for flt in spec_data["filters"]:
            if flt["dimension"] == "date" and flt["level"] == "year" and str(flt["value"]).isdigit():
                flt["value"] = int(flt["value"])
        spec, result = selectors.olap_query(actor=request.user, spec=spec_data)
    except (ValidationFailed, WarehouseMissing) as exc:
        context["error"] = exc.detail
    else:
        context.update(_result_context(params, spec, result, request.GET.get("pivot"), request.GET.get("chart", "bar")))
    template = "insights/partials/olap_results.html" if htmx_partial(request, "olap-results") else "insights/olap.html"
    return render(request, template, context, status=200 if not context["error"] else 422)


def _result_context(
    params: dict[str, list[str]], spec: Any, result: Any, pivot_col: str | None, chart: str
) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "result": result,
        "spec": spec,
        "export_qs": urlencode([(k, v) for k, vs in params.items() for v in vs]),
    }
    # Drill links on the first dimension's members: one level finer, filtered to the member.
    drill: list[str | None] = []
    if spec.dimensions:
        name, level = spec.dimensions[0]
        child = DEFAULT_REGISTRY.dimensions[name].child(level)
        for row in result.rows:
            if child is None:
                drill.append(None)
                continue
            dims = [
                f"{name}.{child}" if d == f"{name}.{level}" else d for d in [f"{a}.{b}" for a, b in spec.dimensions]
            ]
            drill.append(_url(params, d=dims, f=[*params.get("f", []), f"{name}.{level}:{row[0]}"]))
    shown = [tuple(_display(v) for v in row) for row in result.rows]
    ctx["rows"] = list(zip(shown, drill or [None] * len(result.rows), strict=True))
    if pivot_col and pivot_col in result.dimension_columns and len(result.dimension_columns) > 1:
        ctx["pivot"] = selectors.olap_pivot(result, columns=pivot_col)
    if result.rows and result.dimension_columns:
        labels = [" / ".join(str(v) for v in row[: len(result.dimension_columns)]) for row in result.rows[:200]]
        values = [row[len(result.dimension_columns)] for row in result.rows[:200]]
        # Safe: charts.py escapes every label and writes only numbers otherwise.
        svg = svg_chart(labels, values, kind="line" if chart == "line" else "bar", title=result.measure_columns[0])
        ctx["chart_svg"] = mark_safe(svg)  # noqa: S308
    return ctx


@domain_view
@require_GET
def olap_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    try:
        body = selectors.olap_export(actor=request.user, spec=_spec_from(request), fmt=fmt)
    except (ValidationFailed, WarehouseMissing) as exc:
        return HttpResponse(exc.detail, status=exc.status, content_type="text/plain; charset=utf-8")
    ctype = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="olap.{fmt}"'
    return response
