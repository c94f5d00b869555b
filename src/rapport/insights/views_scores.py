"""Web pages of stored scores and churn alerts: the alerts list (filters, outcome buttons, save rate)
and the "Customer value" card that the account 360° page loads by URL name (htmx), so the layer
below never imports this one.

Access: the alerts list shows what ``alerts.alerts_visible`` allows (owners their accounts' alerts,
managers their teams', administrators all); the card needs read access to the account and the
``insights.view_customerscore`` permission.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from rapport.commerce.views import _paged
from rapport.core import permissions
from rapport.core.errors import Conflict, DomainError
from rapport.core.views import domain_view, htmx_partial
from rapport.insights import alerts as alert_service
from rapport.insights.choices import AlertStatus, SuggestedAction
from rapport.insights.models import CustomerScore
from rapport.parties.selectors import account_get

FILTERS = ("status", "action", "assignee", "account_id")


def _filters(request: HttpRequest) -> dict[str, str]:
    params = {k: request.GET.get(k, "")[:20] for k in FILTERS}
    if "status" not in request.GET:
        params["status"] = AlertStatus.OPEN  # the work list: open alerts first
    return params


@domain_view
@require_GET
def churn_alerts_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    qs = alert_service.alert_list(actor=request.user, filters=filters)
    context: dict[str, Any] = {
        **_paged(request, qs, ["-created_at"]),
        "params": filters,
        "statuses": AlertStatus.choices,
        "actions": SuggestedAction.choices,
        "can_decide": request.user.has_perm("insights.change_churnalert"),
        "rate": alert_service.save_rate(actor=request.user),
    }
    if htmx_partial(request, "results"):
        return render(request, "insights/partials/alert_results.html", context)
    return render(request, "insights/churn_alerts.html", context)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@domain_view
@require_POST
def churn_alert_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """Saved / lost / dismissed. htmx gets the row back (or the reason, 409/422); others a redirect."""
    alert = alert_service.alert_get(actor=request.user, alert_id=pk)
    status = 200
    error = ""
    try:
        alert = alert_service.alert_outcome_set(actor=request.user, alert=alert, status=request.POST.get("status", ""),
                                                expected_version=_version(request),
                                                note=request.POST.get("note", "")[:500])
    except Conflict as exc:
        status, error = 409, exc.detail
        alert = alert_service.alert_get(actor=request.user, alert_id=pk)
    except DomainError as exc:
        status, error = exc.status, exc.detail
    if request.htmx:
        return render(request, "insights/partials/alert_row.html",
                      {"a": alert, "error": error, "can_decide": request.user.has_perm("insights.change_churnalert")},
                      status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Alert marked {alert.get_status_display().lower()}.")
    return redirect("churn_alerts")


@domain_view
@require_GET
def customer_value_card(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_get(actor=request.user, account_id=pk)
    permissions.require_model_perm(request.user, CustomerScore, "view")
    score = CustomerScore.objects.select_related("run").filter(account=account).first()
    alert = alert_service.open_alert_for(actor=request.user, account=account)
    drivers = [{"label": alert_service.driver_label(d), "raises": d.startswith("+")}
               for d in (score.churn_drivers if score else [])]
    return render(request, "insights/partials/customer_value.html",
                  {"party": account, "score": score, "alert": alert, "drivers": drivers,
                   "can_see_alerts": request.user.has_perm("insights.view_churnalert")})
