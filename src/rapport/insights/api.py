"""REST API of the OLAP engine: the schema (measures, dimensions, levels) and queries, as JSON
rows, a pivot, or a CSV/Parquet export. Needs ``insights.view_warehouse``."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from rapport.insights import selectors

router = Router(tags=["olap"])


class DimensionIn(Schema):
    dimension: str = Field(max_length=40)
    level: str = Field(max_length=40)


class FilterIn(Schema):
    dimension: str = Field(max_length=40)
    level: str = Field(max_length=40)
    op: Literal["eq", "in", "range"] = "eq"
    value: str | int | float | None | list[str | int | float | None] = None


class DrillIn(Schema):
    dimension: str = Field(max_length=40)
    member: str | int | float


class QueryIn(Schema):
    measures: list[str] = Field(min_length=1, max_length=12)
    dimensions: list[DimensionIn] = Field(default_factory=list, max_length=3)
    filters: list[FilterIn] = Field(default_factory=list, max_length=20)
    sort: list[str] = Field(default_factory=list, max_length=6)
    limit: int | None = Field(default=None, ge=1, le=100_000)
    drill: DrillIn | None = None
    pivot: str | None = Field(default=None, max_length=80, description="a dimension column to spread as columns")


@router.get("/olap/schema", summary="Measures and dimensions (with their hierarchy levels)")
def olap_schema(request: HttpRequest) -> dict[str, Any]:
    return selectors.olap_schema(actor=request.user)


@router.post(
    "/olap/query",
    summary="Run an OLAP query; ?format=csv|parquet exports it",
    openapi_extra={"responses": {200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}}},
)
def olap_query(request: HttpRequest, payload: QueryIn, format: Literal["json", "csv", "parquet"] = "json") -> Any:  # noqa: A002
    data = payload.dict(exclude={"drill", "pivot"})
    if format != "json":
        body = selectors.olap_export(actor=request.user, spec=data, fmt=format)
        ctype = "text/csv; charset=utf-8" if format == "csv" else "application/vnd.apache.parquet"
        response = HttpResponse(body, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="olap.{format}"'
        return response
    drill = payload.drill.dict() if payload.drill else None
    spec, result = selectors.olap_query(actor=request.user, spec=data, drill=drill)
    out: dict[str, Any] = {
        "columns": list(result.columns),
        "dimensions": [f"{d}.{lv}" for d, lv in spec.dimensions],
        "rows": [list(r) for r in result.rows],
    }
    if payload.pivot:
        pv = selectors.olap_pivot(result, columns=payload.pivot)
        out["pivot"] = {
            "row_columns": list(pv.row_columns),
            "column_members": list(pv.column_members),
            "measure": pv.measure,
            "rows": [{"key": list(k), "cells": cells} for k, cells in pv.rows],
        }
    return out
