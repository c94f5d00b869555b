"""OLAP reads for the page and the API: one place that checks the permission, opens the file
read-only and turns the engine's ``OlapError`` into the API's 422 ``ValidationFailed``."""

from __future__ import annotations

from typing import Any

from rapport.analytics.olap import DEFAULT_REGISTRY, OlapError, QuerySpec, run_query
from rapport.analytics.olap.export import export_query
from rapport.analytics.olap.pivot import Pivot, pivot
from rapport.analytics.olap.query import QueryResult, drill_down
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import User
from rapport.insights.warehouse import warehouse_connect, warehouse_info

PERMISSION = "insights.view_warehouse"


def require_warehouse(actor: User) -> None:
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied("The analytical warehouse is for analysts and managers.")


def _spec(data: dict[str, Any]) -> QuerySpec:
    try:
        return QuerySpec.from_dict(data)
    except OlapError as exc:
        raise ValidationFailed(str(exc), field_errors={"query": [str(exc)]}) from exc


def olap_schema(*, actor: User) -> dict[str, Any]:
    require_warehouse(actor)
    return {**DEFAULT_REGISTRY.describe(), "warehouse": warehouse_info()}


def olap_query(
    *, actor: User, spec: dict[str, Any], drill: dict[str, Any] | None = None
) -> tuple[QuerySpec, QueryResult]:
    """Run ``spec`` (after a drill-down on ``drill`` = {dimension, member}, when given)."""
    require_warehouse(actor)
    query = _spec(spec)
    con = warehouse_connect()
    try:
        if drill:
            query = drill_down(query, dimension=str(drill.get("dimension")), member=drill.get("member"))
        return query, run_query(con, query)
    except OlapError as exc:
        raise ValidationFailed(str(exc), field_errors={"query": [str(exc)]}) from exc
    finally:
        con.close()


def olap_pivot(result: QueryResult, *, columns: str, measure: str | None = None) -> Pivot:
    try:
        return pivot(result, columns=columns, measure=measure)
    except OlapError as exc:
        raise ValidationFailed(str(exc), field_errors={"pivot": [str(exc)]}) from exc


def olap_export(*, actor: User, spec: dict[str, Any], fmt: str) -> bytes:
    require_warehouse(actor)
    query = _spec(spec)
    con = warehouse_connect()
    try:
        return export_query(con, query, fmt=fmt)
    except OlapError as exc:
        raise ValidationFailed(str(exc), field_errors={"format": [str(exc)]}) from exc
    finally:
        con.close()
