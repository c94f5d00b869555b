"""REST API of the analytical dashboards: the figures of each ``/insights/...`` page as JSON, the same
numbers the page shows (both read ``selectors_dash``, the churn figures ``selectors_churn``). Needs
``insights.view_warehouse``; per-customer lists hold only accounts the caller may read. A bad
parameter is a 422 problem, a warehouse not built yet a 409 problem (not for churn, which reads the
stored scoring run: with none yet it answers ``status: "no_run"`` and what to run)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from rapport.insights import selectors_churn, selectors_dash

router = Router(tags=["insights"])


class TopIn(Schema):
    top: int = Field(20, ge=1, le=200, description="how many customers in the per-customer list")


class ClvIn(TopIn):
    model: Literal["bgnbd", "pnbd", "mbgnbd"] = "bgnbd"


class DefectionIn(Schema):
    dimension: Literal["region", "tier", "channel"] = "region"
    top: int = Field(50, ge=1, le=500, description="how many declining accounts")


@router.get("/insights/overview",
            summary="Overview tiles: customers, revenue, segments, tiers, median CLV, churn risk, save rate")
def insights_overview(request: HttpRequest) -> dict[str, Any]:
    return selectors_dash.dash_overview(actor=request.user)


@router.get("/insights/rfm", summary="RFM segments, R×F grid, customer pyramid and clusters")
def insights_rfm(request: HttpRequest) -> dict[str, Any]:
    return selectors_dash.dash_rfm(actor=request.user)


@router.get("/insights/clv", summary="Lifetime value: fitted model, spend check, calibration, tracking, deciles, top")
def insights_clv(request: HttpRequest, params: Query[ClvIn]) -> dict[str, Any]:
    return selectors_dash.dash_clv(actor=request.user, model=params.model, top=params.top)


@router.get("/insights/churn", summary="The scoring run's churn model: AUC vs baseline, lift, drivers, stored "
            "risk, highest-risk customers, save rate")
def insights_churn(request: HttpRequest, params: Query[TopIn]) -> dict[str, Any]:
    return selectors_churn.dash_churn(actor=request.user, top=params.top)


@router.get("/insights/defection", summary="Reasons, cohort retention, Kaplan–Meier by segment, declining accounts")
def insights_defection(request: HttpRequest, params: Query[DefectionIn]) -> dict[str, Any]:
    return selectors_dash.dash_defection(actor=request.user, dimension=params.dimension, top=params.top)
