"""Writes of quotas: a manager sets what a rep is expected to close in one period.

Rules (one transaction; refused means nothing written):
* only a manager of the rep's team, or an administrator, may set the rep's quota (a rep never
  sets their own);
* the amount is a non-negative decimal in a currency (default: the company currency); the
  period is month/quarter/year and is stored by its first day, so any day of it names it;
* one quota per (rep, period kind, start): setting it again replaces the amount, and the audit
  trail keeps the old one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from rapport.commerce.money import currency_clean, decimal_clean
from rapport.commerce.pricing import company_currency
from rapport.core import permissions
from rapport.core.audit import audit_record
from rapport.core.errors import PermissionDenied
from rapport.core.models import User
from rapport.sales.forecasting import period_bounds
from rapport.sales.models_forecast import Quota


def may_manage(actor: User, rep: User) -> bool:
    """True when ``actor`` may set ``rep``'s quota and adjust ``rep``'s forecast."""
    if actor.is_administrator:
        return True
    return rep.team_id is not None and rep.team_id in permissions.managed_team_ids(actor)


def quota_set(*, actor: User, user: User, period: str, day: dt.date, amount: Any, currency: str = "") -> Quota:
    """Set ``user``'s quota for the ``period`` containing ``day``; returns the stored quota."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("Sign in first.")
    if not may_manage(actor, user):
        raise PermissionDenied("Only a manager of the rep's team may set the rep's quota.")
    start, _end = period_bounds(period, day)
    value = decimal_clean(amount, field="amount", places=4)  # refuses negatives and non-numbers
    code = currency_clean(currency or company_currency())
    with transaction.atomic():
        existing = Quota.objects.select_for_update().filter(user=user, period=period, period_start=start).first()
        before = str(existing.amount) if existing else None
        quota, created = Quota.objects.update_or_create(
            user=user, period=period, period_start=start, defaults={"amount": value, "currency": code})
        audit_record(actor=actor, instance=quota, action="create" if created else "update",
                     changes={"amount": [before, str(value)], "currency": [existing.currency if existing else None,
                                                                            code]})
    return quota
