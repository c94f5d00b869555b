"""REST API of the sales metrics: ``GET /sales/metrics`` returns every figure with its definition
key, the previous period, the per-rep rows, the stage funnel and the 12-period trend;
``?format=csv`` the CSV of the page; ``GET /sales/metrics/trend`` the trend alone.

Parameters and access are the page's (``metrics.metrics_request``): a malformed one is a 422
problem+json, a rep or team the caller may not see a 403."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from rapport.sales.metrics import metrics_dashboard, metrics_request
from rapport.sales.metrics_output import dashboard_csv, dashboard_json

router = Router(tags=["sales metrics"])


class MetricsQuery(Schema):
    period: Literal["month", "quarter", "year", "custom"] = "month"
    day: str | None = Field(None, max_length=10, description="a day in the period (YYYY-MM-DD); default today")
    start: str | None = Field(None, max_length=10, description="custom period: first day")
    end: str | None = Field(None, max_length=10, description="custom period: last day")
    rep: str | None = Field(None, max_length=12, description="a user id, or 'me'")
    team: str | None = Field(None, max_length=12)
    pipeline: str | None = Field(None, max_length=12, description="the funnel's pipeline; default the default one")


@router.get(
    "/sales/metrics",
    summary="Every sales metric of a period and scope; ?format=csv for one row per rep and the total",
    openapi_extra={"responses": {200: {"content": {"text/csv": {}}}}},
)
def sales_metrics(request: HttpRequest, query: Query[MetricsQuery],
                  format: Literal["json", "csv"] = "json") -> Any:  # noqa: A002
    period, scope, pipeline = metrics_request(request.user, query.dict())
    board = metrics_dashboard(actor=request.user, period=period, scope=scope, pipeline=pipeline,
                              trend=format == "json")
    if format == "csv":
        response = HttpResponse(dashboard_csv(board), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="sales-metrics-{period.start.isoformat()}.csv"'
        return response
    return dashboard_json(board)


@router.get("/sales/metrics/trend", summary="New revenue, won amount, new customers and win rate, last 12 periods")
def sales_metrics_trend(request: HttpRequest, query: Query[MetricsQuery]) -> dict[str, Any]:
    period, scope, pipeline = metrics_request(request.user, query.dict())
    board = metrics_dashboard(actor=request.user, period=period, scope=scope, pipeline=pipeline, per_rep=False)
    body = dashboard_json(board)
    return {"currency": body["currency"], "scope": body["scope"], "trend": body["trend"]}
