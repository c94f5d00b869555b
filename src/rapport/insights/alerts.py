"""Churn alerts: raised after scoring, worked through a retention task, decided saved / lost.

Rules (``alerts_raise``), per customer, comparing this run's churn probability ``p`` with the previous
run's ``q`` and the settings' alert threshold ``t`` and jump threshold ``j``:

- **crossing**: ``p ≥ t`` and (no previous score, or ``q < t``);
- **jump**: a previous score exists and ``p − q ≥ j`` (and it is not a crossing);
- never a second alert while one is open for the account (also a partial unique constraint).

Each alert gets a suggested action from its drivers (the features that *raise* the customer's risk,
strongest first): recency / no contact / not reading campaigns → call; inbound contacts, cases,
complaints, low satisfaction, overdue invoices → service follow-up; falling spend or low order value →
voucher; otherwise an account review. A retention task
goes to the account owner — or to the save team (its user, else its team's manager) when the account
has no active owner or the settings send every alert there — and the assignee is notified through
``core.notifications`` (the same mechanism as lead assignment).

Outcomes (``alert_outcome_set``): saved / lost / dismissed, once, from open, with a version check.
The **save rate** is saved / (saved + lost); dismissed alerts are not decisions about the customer.

Access (``alerts_visible``): administrators see every alert; others the alerts of accounts they own,
of their managed teams' accounts, and those assigned to them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone

from rapport.activities.choices import Priority
from rapport.activities.services import task_create_for_job, task_update
from rapport.core import permissions
from rapport.core.audit import audit_created, audit_record
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import versioned_save
from rapport.insights.choices import AlertStatus, AlertTrigger, SuggestedAction
from rapport.insights.models import ChurnAlert, ScoringSettings
from rapport.parties.models import Account

log = logging.getLogger(__name__)

JOB = "churn_alert"
TASK_DUE_DAYS = 3
# Which action answers which driver (the model's feature names, insights.scoring_features).
ACTION_BY_FEATURE = {
    "days_since_last_order": SuggestedAction.CALL,
    "days_since_last_interaction": SuggestedAction.CALL,
    "interactions": SuggestedAction.CALL,
    "tenure_days": SuggestedAction.CALL,
    "inbound_contacts": SuggestedAction.SERVICE,
    "overdue_invoices": SuggestedAction.SERVICE,
    "days_overdue": SuggestedAction.SERVICE,
    # A contract about to end: call about the renewal.
    "days_to_contract_end": SuggestedAction.CALL,
    "active_subscriptions": SuggestedAction.CALL,
    # Service trouble or an unhappy customer: follow the service up first.
    "cases": SuggestedAction.SERVICE,
    "complaints": SuggestedAction.SERVICE,
    "open_cases": SuggestedAction.SERVICE,
    "avg_satisfaction": SuggestedAction.SERVICE,
    # Not reading the mailings (or opted out): a call, not another message.
    "campaigns_received": SuggestedAction.CALL,
    "campaign_open_rate": SuggestedAction.CALL,
    "unsubscribed": SuggestedAction.CALL,
    "spend_change": SuggestedAction.VOUCHER,
    "avg_order_value": SuggestedAction.VOUCHER,
    "orders": SuggestedAction.VOUCHER,
}
DRIVER_LABELS = {
    "days_since_last_order": "days since the last order",
    "days_since_last_interaction": "days since the last contact",
    "interactions": "contacts in the last period",
    "inbound_contacts": "inbound contacts",
    "spend_change": "spend against the period before",
    "avg_order_value": "average order value",
    "orders": "number of orders",
    "tenure_days": "time as a customer",
    "overdue_invoices": "overdue invoices",
    "days_overdue": "days the oldest invoice is overdue",
    "active_subscriptions": "active subscriptions",
    "days_to_contract_end": "days until a contract ends",
    "cases": "service cases in the last period",
    "complaints": "complaints in the last period",
    "open_cases": "service cases still open",
    "avg_satisfaction": "satisfaction with service (CSAT)",
    "campaigns_received": "campaign messages received",
    "campaign_open_rate": "share of campaign messages opened",
    "unsubscribed": "unsubscribed from marketing",
    "segment": "customer segment",
    "region": "region",
}
DECIDED = (AlertStatus.SAVED, AlertStatus.LOST, AlertStatus.DISMISSED)


def reasons(drivers: list[str]) -> list[str]:
    """The drivers that raise the risk, without their sign (strongest first)."""
    return [d[1:] for d in drivers or [] if d.startswith("+")]


def driver_label(name: str) -> str:
    return DRIVER_LABELS.get(name.lstrip("+-"), name.lstrip("+-").replace("_", " "))


def suggested_action(drivers: list[str]) -> str:
    for name in reasons(drivers):
        if name in ACTION_BY_FEATURE:
            return str(ACTION_BY_FEATURE[name].value)
    return SuggestedAction.REVIEW.value


def _save_team_assignee(cfg: ScoringSettings) -> User | None:
    if cfg.save_team_user_id and cfg.save_team_user.is_active:  # type: ignore[union-attr]
        return cfg.save_team_user
    if cfg.save_team_id and cfg.save_team.manager_id and cfg.save_team.manager.is_active:  # type: ignore[union-attr]
        return cfg.save_team.manager  # type: ignore[union-attr]
    return None


def assignee_for(account: Account, cfg: ScoringSettings) -> User | None:
    """The account owner, or the save team when the account is unowned or the settings say so."""
    if not cfg.always_save_team and account.owner_id and account.owner.is_active:  # type: ignore[union-attr]
        return account.owner
    return _save_team_assignee(cfg) or (account.owner if account.owner_id and account.owner.is_active else None)  # type: ignore[union-attr]


def alerts_raise(*, probability: pd.Series, previous: pd.Series, settings: ScoringSettings,
                 drivers: pd.Series | None = None) -> int:
    """Raise the alerts the rules of the module docstring call for; returns how many were created.

    ``probability``/``previous`` are indexed by account id (NaN: unknown). Vectorised selection; then
    one small transaction per alert (alert, task, notification), so one failure loses one alert.
    """
    p = probability.to_numpy(dtype=float)
    q = previous.reindex(probability.index).to_numpy(dtype=float)
    t, j = settings.churn_alert_threshold, settings.jump_threshold
    with np.errstate(invalid="ignore"):
        crossed = (p >= t) & (np.isnan(q) | (q < t))
        jumped = ~np.isnan(q) & ((p - q) >= j) & ~crossed
    picked = np.flatnonzero(crossed | jumped)
    if not len(picked):
        return 0
    ids = probability.index.to_numpy()[picked]
    if drivers is None:
        from rapport.insights.models import CustomerScore

        drivers = pd.Series(dict(CustomerScore.objects.filter(account_id__in=ids.tolist())
                                 .values_list("account_id", "churn_drivers")), dtype=object)
    already = set(ChurnAlert.objects.filter(status=AlertStatus.OPEN, account_id__in=ids.tolist())
                  .values_list("account_id", flat=True))
    accounts = Account.objects.select_related("owner").in_bulk(ids.tolist())
    made = 0
    for k in picked:
        account_id = int(probability.index[k])
        if account_id in already or account_id not in accounts:
            continue
        alert = _alert_create(
            account=accounts[account_id], probability=float(p[k]), previous=None if np.isnan(q[k]) else float(q[k]),
            trigger=AlertTrigger.THRESHOLD if crossed[k] else AlertTrigger.JUMP,
            drivers=list(drivers.get(account_id) or []), cfg=settings)
        made += alert is not None
    return made


def _alert_create(*, account: Account, probability: float, previous: float | None, trigger: str,
                  drivers: list[str], cfg: ScoringSettings) -> ChurnAlert | None:
    action = suggested_action(drivers)
    assignee = assignee_for(account, cfg)
    try:
        with transaction.atomic():
            alert = ChurnAlert(account=account, trigger=trigger, probability=probability,
                               previous_probability=previous, drivers=drivers, suggested_action=action,
                               assignee=assignee)
            alert.full_clean(validate_constraints=False)
            alert.save()
            audit_created(alert, actor=None, context={"job": JOB})
            if assignee is None:
                log.warning("churn alert %s on account %s: nobody to give the task to (no owner, no save team)",
                            alert.pk, account.pk)
                return alert
            why = ", ".join(driver_label(r) for r in reasons(drivers)) or "the churn model's overall score"
            label = SuggestedAction(action).label
            task = task_create_for_job(
                job=JOB, title=f"Retention ({label}): {account.name}"[:200], account=account, assignee=assignee,
                related=alert, priority=Priority.HIGH, due_at=timezone.now() + dt.timedelta(days=TASK_DUE_DAYS),
                description=(f"Churn risk {probability:.0%}"
                             + (f" (was {previous:.0%})" if previous is not None else "")
                             + f". Why: {why}. Suggested: {label}."),
                notification=f"Churn risk {probability:.0%} for {account.name}: {label.lower()} suggested",
                url=reverse("churn_alerts") + f"?account_id={account.pk}",
            )
            ChurnAlert.objects.filter(pk=alert.pk).update(task=task)
            alert.task = task
            return alert
    except IntegrityError:
        # Another run opened one for this account meanwhile (the partial unique constraint).
        return None


# --- reads -------------------------------------------------------------------------------------


def alerts_visible(*, actor: User) -> QuerySet[ChurnAlert]:
    permissions.require_model_perm(actor, ChurnAlert, "view")
    qs = ChurnAlert.objects.all()
    if actor.is_administrator:
        return qs
    q = Q(account__owner_id=actor.pk) | Q(assignee_id=actor.pk)
    teams = permissions.managed_team_ids(actor)
    if teams:
        q |= Q(account__team_id__in=teams)
    return qs.filter(q)


def alert_list(*, actor: User, filters: dict[str, Any]) -> QuerySet[ChurnAlert]:
    qs = alerts_visible(actor=actor).select_related("account", "assignee", "task")
    if filters.get("status") in AlertStatus.values:
        qs = qs.filter(status=filters["status"])
    if filters.get("action") in SuggestedAction.values:
        qs = qs.filter(suggested_action=filters["action"])
    if filters.get("assignee") == "me":
        qs = qs.filter(assignee_id=actor.pk)
    if str(filters.get("account_id") or "").isdigit():
        qs = qs.filter(account_id=int(filters["account_id"]))
    return qs


def alert_get(*, actor: User, alert_id: Any) -> ChurnAlert:
    try:
        return alerts_visible(actor=actor).select_related("account", "assignee", "task").get(pk=alert_id)
    except (ChurnAlert.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Churn alert {alert_id} was not found.") from None


def open_alert_for(*, actor: User, account: Account) -> ChurnAlert | None:
    if not actor.has_perm("insights.view_churnalert"):
        return None
    return alerts_visible(actor=actor).filter(account=account, status=AlertStatus.OPEN).first()


def alert_counts(*, actor: User) -> dict[str, Any]:
    """The save-rate tile of the dashboards: how many of the alerts the actor may see
    (``alerts_visible``, as on the alerts page) are open, saved, lost and dismissed, and the save
    rate saved / (saved + lost) — None while nothing was decided. One aggregate query."""
    counts = alerts_visible(actor=actor).aggregate(
        **{status: Count("id", filter=Q(status=status)) for status in AlertStatus.values})
    decided = counts[AlertStatus.SAVED] + counts[AlertStatus.LOST]
    return {**counts, "decided": decided, "rate": counts[AlertStatus.SAVED] / decided if decided else None}


def save_rate(*, actor: User, since: dt.datetime | None = None) -> dict[str, Any]:
    """Saved / decided (saved + lost) over the alerts the actor may see: overall, by month of the
    decision and by suggested action. ``rate`` is None where nothing was decided."""
    qs = alerts_visible(actor=actor).filter(status__in=(AlertStatus.SAVED, AlertStatus.LOST))
    if since is not None:
        qs = qs.filter(outcome_at__gte=since)
    counts = {"saved": Count("id", filter=Q(status=AlertStatus.SAVED)), "decided": Count("id")}

    def rows(group: QuerySet[Any], key: str) -> list[dict[str, Any]]:
        return [{key: r[key], "saved": r["saved"], "decided": r["decided"], "lost": r["decided"] - r["saved"],
                 "rate": r["saved"] / r["decided"] if r["decided"] else None} for r in group]

    total = qs.aggregate(**counts)
    by_month = qs.annotate(month=TruncMonth("outcome_at")).values("month").annotate(**counts).order_by("month")
    by_action = qs.values("suggested_action").annotate(**counts).order_by("suggested_action")
    return {
        "saved": total["saved"], "decided": total["decided"], "lost": total["decided"] - total["saved"],
        "rate": total["saved"] / total["decided"] if total["decided"] else None,
        "by_month": [{**r, "month": r["month"].date().isoformat()[:7] if r["month"] else None}
                     for r in rows(by_month, "month")],
        "by_action": rows(by_action, "suggested_action"),
    }


# --- writes ------------------------------------------------------------------------------------


@transaction.atomic
def alert_outcome_set(*, actor: User, alert: ChurnAlert, status: str, expected_version: int | None,
                      note: str = "") -> ChurnAlert:
    """Decide an open alert: saved, lost or dismissed. Its retention task is marked done with it."""
    permissions.require_model_perm(actor, ChurnAlert, "change")
    if status not in DECIDED:
        raise ValidationFailed("Choose saved, lost or dismissed.",
                               field_errors={"status": [f"Not an outcome: {status!r}."]})
    if alert.status != AlertStatus.OPEN:
        raise ValidationFailed(f"This alert was already decided ({alert.get_status_display().lower()}).",
                               field_errors={"status": ["Already decided."]})
    before = (alert.status, alert.outcome_at, alert.decided_by, alert.note)
    alert.status, alert.outcome_at, alert.decided_by = status, timezone.now(), actor
    alert.note = (note or "").strip()[:500]
    try:
        versioned_save(alert, expected_version=expected_version, fields=("status", "outcome_at", "decided_by", "note"))
    except Conflict:
        alert.status, alert.outcome_at, alert.decided_by, alert.note = before  # the caller's copy stays as stored
        raise
    audit_record(actor=actor, action="update", instance=alert, changes={"status": [before[0], status]})
    if alert.task_id and alert.task.done_at is None:  # type: ignore[union-attr]
        # A manager deciding a rep's alert may not be allowed to change the rep's task: the
        # outcome still counts; the task stays for its assignee to close.
        with contextlib.suppress(PermissionDenied, NotFound):
            task_update(actor=actor, task=alert.task, data={"done": True}, expected_version=None)  # type: ignore[arg-type]
    return alert
