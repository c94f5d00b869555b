"""REST API of stored scores and churn alerts.

``GET /insights/scores/{account_id}`` (needs read access to the account and
``insights.view_customerscore``), ``GET /insights/alerts`` (the alerts the caller may see, newest
first, cursor-paginated), ``GET /insights/alerts/save-rate``, ``PATCH /insights/alerts/{id}`` (the
outcome, with ``version`` or ``If-Match``: a stale one is 409 / 412).
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from rapport.core import permissions
from rapport.core.api_support import etag_set, expected_version
from rapport.core.errors import NotFound
from rapport.core.pagination import keyset_page
from rapport.core.schemas import Id, Limit
from rapport.insights import alerts as alert_service
from rapport.insights.models import ChurnAlert, CustomerScore
from rapport.parties.selectors import account_get

router = Router(tags=["insights"])


class AlertListQuery(Schema):
    status: Literal["open", "saved", "lost", "dismissed"] | None = None
    action: Literal["call", "service", "voucher", "review"] | None = None
    assignee: Literal["me"] | None = None
    account_id: int | None = Field(None, ge=1)
    cursor: str | None = Field(None, max_length=1000)
    limit: Limit = 50


class OutcomeIn(Schema):
    status: Literal["saved", "lost", "dismissed"]
    note: str = Field("", max_length=500)
    version: int | None = Field(None, ge=1)


def score_out(score: CustomerScore) -> dict[str, Any]:
    return {
        "account_id": score.account_id,
        "recency_days": score.recency_days, "frequency": score.frequency,
        "monetary": str(score.monetary) if score.monetary is not None else None,
        "r": score.r_score, "f": score.f_score, "m": score.m_score,
        "rfm_segment": score.rfm_segment, "value_tier": score.value_tier,
        "cluster": score.cluster, "cluster_description": score.cluster_description,
        "p_alive": score.p_alive, "expected_purchases": score.expected_purchases,
        "clv": str(score.clv) if score.clv is not None else None, "clv_kind": score.clv_kind,
        "churn_probability": score.churn_probability,
        "previous_churn_probability": score.previous_churn_probability,
        "churn_drivers": list(score.churn_drivers), "scored_at": score.scored_at,
    }


def alert_out(alert: ChurnAlert) -> dict[str, Any]:
    return {
        "id": alert.pk, "account_id": alert.account_id, "account": alert.account.name, "status": alert.status,
        "trigger": alert.trigger, "probability": alert.probability,
        "previous_probability": alert.previous_probability, "drivers": list(alert.drivers),
        "reasons": [alert_service.driver_label(r) for r in alert_service.reasons(alert.drivers)],
        "suggested_action": alert.suggested_action, "assignee_id": alert.assignee_id, "task_id": alert.task_id,
        "created_at": alert.created_at, "outcome_at": alert.outcome_at, "decided_by_id": alert.decided_by_id,
        "note": alert.note, "version": alert.version,
    }


@router.get("/insights/scores/{int:account_id}", summary="The stored scores of one account")
def scores_get(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    account = account_get(actor=request.user, account_id=account_id)
    permissions.require_model_perm(request.user, CustomerScore, "view")
    score = CustomerScore.objects.select_related("run").filter(account=account).first()
    if score is None:
        raise NotFound(f"Account {account_id} has not been scored yet.")
    body = score_out(score)
    alert = alert_service.open_alert_for(actor=request.user, account=account)
    body["open_alert_id"] = alert.pk if alert else None
    return body


@router.get("/insights/alerts", summary="Churn alerts you may see, newest first")
def alerts_list(request: HttpRequest, query: Query[AlertListQuery]) -> dict[str, Any]:
    qs = alert_service.alert_list(actor=request.user, filters=query.dict(exclude={"cursor", "limit"}))
    page = keyset_page(qs, ordering=["-created_at"], cursor=query.cursor, limit=query.limit)
    return {"items": [alert_out(a) for a in page.items], "next": page.next_cursor}


@router.get("/insights/alerts/save-rate", summary="Saved / decided, overall, by month and by action")
def alerts_save_rate(request: HttpRequest) -> dict[str, Any]:
    return alert_service.save_rate(actor=request.user)


@router.get("/insights/alerts/{int:alert_id}")
def alerts_get(request: HttpRequest, alert_id: Id, response: HttpResponse) -> dict[str, Any]:
    alert = alert_service.alert_get(actor=request.user, alert_id=alert_id)
    etag_set(response, alert)
    return alert_out(alert)


@router.patch("/insights/alerts/{int:alert_id}", summary="Record the outcome: saved, lost or dismissed")
def alerts_outcome(request: HttpRequest, alert_id: Id, payload: OutcomeIn, response: HttpResponse) -> dict[str, Any]:
    alert = alert_service.alert_get(actor=request.user, alert_id=alert_id)
    version = expected_version(request, alert, payload.version)
    alert = alert_service.alert_outcome_set(actor=request.user, alert=alert, status=payload.status,
                                            expected_version=version, note=payload.note)
    etag_set(response, alert)
    return alert_out(alert)
