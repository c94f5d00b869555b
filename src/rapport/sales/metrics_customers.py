"""Customer figures of a period: prospective, new and retained customers and the retention rate.

A *purchase* is a non-cancelled order (``order_date``) or a won deal (``closed_at``). Which rows
count for a rep or team is the order's or deal's owner/team, narrowed by ``core.permissions``;
whether an account bought *before* is a fact about the customer, checked over every order and
deal (a customer first won by another team is not new for this one).

All counts are ``COUNT(DISTINCT account_id)`` in SQL with ``EXISTS``/``NOT EXISTS`` probes on
``(account, date)`` indexes; a customer a rep and a teammate both sold to counts once for each
of them and once in the total.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.db.models.functions import TruncDate

from rapport.commerce.choices import OrderStatus
from rapport.commerce.models import Order
from rapport.core.models import User
from rapport.sales.choices import OpportunityStatus
from rapport.sales.metrics_deals import TOTAL, grouped
from rapport.sales.metrics_scope import Period, Scope, owned
from rapport.sales.models import Opportunity


def _orders() -> QuerySet[Order]:
    return Order.objects.exclude(status=OrderStatus.CANCELLED)


def _bought_before(period: Period) -> tuple[Exists, Exists]:
    first, _ = period.dt_range()
    order = Exists(_orders().filter(account_id=OuterRef("account_id"), order_date__lt=period.start))
    deal = Exists(Opportunity.objects.filter(account_id=OuterRef("account_id"), status=OpportunityStatus.WON,
                                             closed_at__lt=first))
    return order, deal


def _count_distinct_accounts(querysets: list[QuerySet[Any]], by_owner: bool) -> dict[Any, int]:
    """``COUNT(DISTINCT account_id)`` over the union of ``querysets`` (each selecting ``owner_id``
    and ``account_id``), per owner or in total. Raw SQL only to wrap the ORM's own SQL: the ORM
    cannot aggregate over a UNION."""
    parts, params = [], []
    for qs in querysets:
        sql, p = qs.values("owner_id", "account_id").order_by().query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) q{len(parts)}")
        params.extend(p)
    union = " UNION ALL ".join(parts)
    head = "u.owner_id, " if by_owner else ""
    tail = " GROUP BY u.owner_id" if by_owner else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {head}COUNT(DISTINCT u.account_id) FROM ({union}) u{tail}", params)  # noqa: S608
        rows = cursor.fetchall()
    if by_owner:
        return dict(rows)
    return {TOTAL: rows[0][0] if rows else 0}


def new_customers(*, actor: User, scope: Scope, period: Period, by_owner: bool = False) -> dict[Any, int]:
    first, after = period.dt_range()
    before_order, before_deal = _bought_before(period)
    orders = owned(actor, _orders().filter(order_date__range=(period.start, period.end)), scope)
    deals = owned(actor, Opportunity.objects.filter(status=OpportunityStatus.WON, closed_at__gte=first,
                                                    closed_at__lt=after), scope)
    fresh = [qs.filter(~before_order, ~before_deal) for qs in (orders, deals)]
    return _count_distinct_accounts(fresh, by_owner)


def _purchases(actor: User | None, scope: Scope, start: Period, end: Period) -> tuple[str, list[Any]]:
    """SQL of ``(account_id, d)``: every purchase from ``start``'s first to ``end``'s last day, in
    scope for ``actor`` (``None``: everyone's, unscoped)."""
    first, _ = start.dt_range()
    _, after = end.dt_range()
    orders = _orders().filter(order_date__range=(start.start, end.end))
    deals = Opportunity.objects.filter(status=OpportunityStatus.WON, closed_at__gte=first, closed_at__lt=after)
    if actor is not None:
        orders, deals = owned(actor, orders, scope), owned(actor, deals, scope)
    parts, params = [], []
    for qs in (orders.annotate(d=F("order_date")), deals.annotate(d=TruncDate("closed_at"))):
        sql, p = qs.values("account_id", "d").order_by().query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) q{len(parts)}")
        params.extend(p)
    return " UNION ALL ".join(parts), params


def new_customers_series(*, actor: User, scope: Scope, periods: list[Period]) -> list[int]:
    """New customers of each of ``periods`` (consecutive, oldest first) in one query.

    Same definition as :func:`new_customers`, computed per account instead of per purchase: the
    account's first purchase in the window (by anyone) must be its first ever (no purchase before
    the window) and fall in a period where the account also bought in scope. So each account is
    probed once for the whole window, not once per purchase per period."""
    window_start, _ = periods[0].dt_range()
    everyone, p_all = _purchases(None, scope, periods[0], periods[-1])
    scoped, p_scoped = _purchases(actor, scope, periods[0], periods[-1])
    cases, p_case = [], []
    for index, period in enumerate(periods):
        cases.append(f"WHEN {{col}} BETWEEN %s AND %s THEN {index}")
        p_case.extend([period.start, period.end])
    bucket = "CASE " + " ".join(cases) + " END"
    order_t, deal_t = Order._meta.db_table, Opportunity._meta.db_table
    sql = (
        f"SELECT b, COUNT(*) FROM (SELECT DISTINCT f.account_id, {bucket.format(col='f.first')} AS b "
        f"FROM (SELECT a.account_id, MIN(a.d) AS first FROM ({everyone}) a GROUP BY a.account_id) f "
        f"JOIN ({scoped}) s ON s.account_id = f.account_id "
        f"AND {bucket.format(col='s.d')} = {bucket.format(col='f.first')} "
        f'WHERE NOT EXISTS (SELECT 1 FROM "{order_t}" o WHERE o.account_id = f.account_id '
        f"AND o.order_date < %s AND NOT (o.status = %s)) "
        f'AND NOT EXISTS (SELECT 1 FROM "{deal_t}" w WHERE w.account_id = f.account_id '
        f"AND w.status = %s AND w.closed_at < %s)) n GROUP BY b"
    )
    params = [*p_case, *p_all, *p_scoped, *p_case, *p_case, periods[0].start, OrderStatus.CANCELLED,
              OpportunityStatus.WON, window_start]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # noqa: S608 - only table names and the ORM's own SQL are interpolated
        counts = dict(cursor.fetchall())
    return [counts.get(i, 0) for i in range(len(periods))]


def retained_customers(*, actor: User, scope: Scope, period: Period, by_owner: bool = False
                       ) -> dict[Any, dict[str, Any]]:
    """Customers with an order in the previous period and again in this one (both in scope; per
    rep: both the rep's), the previous period's customers, and the rate of the two."""
    previous = period.previous()
    keys = ["owner_id"] if by_owner else []
    scoped = owned(actor, _orders(), scope)
    earlier = scoped.filter(account_id=OuterRef("account_id"), order_date__range=(previous.start, previous.end))
    if by_owner:
        earlier = earlier.filter(owner_id=OuterRef("owner_id"))
    now = grouped(scoped.filter(order_date__range=(period.start, period.end)).filter(Exists(earlier)), keys,
                  n=Count("account_id", distinct=True))
    before = grouped(scoped.filter(order_date__range=(previous.start, previous.end)), keys,
                     n=Count("account_id", distinct=True))
    out: dict[Any, dict[str, Any]] = {}
    for g in before:
        out[g["owner_id"] if by_owner else TOTAL] = {"previous_customers": g["n"], "retained_customers": 0}
    for g in now:
        row = out.setdefault(g["owner_id"] if by_owner else TOTAL, {"previous_customers": 0})
        row["retained_customers"] = g["n"]
    if not by_owner:
        out.setdefault(TOTAL, {"previous_customers": 0, "retained_customers": 0})
    for row in out.values():
        prev = row["previous_customers"]
        row["retention_rate"] = row["retained_customers"] / prev if prev else None
    return out


def prospective_customers(*, actor: User, scope: Scope, by_owner: bool = False) -> dict[Any, int]:
    """Accounts with an open deal in scope (a lead converted into a deal included) that never placed
    a non-cancelled order: a snapshot of now, not of the period."""
    keys = ["owner_id"] if by_owner else []
    ever = Exists(_orders().filter(account_id=OuterRef("account_id")))
    rows = grouped(owned(actor, Opportunity.objects.filter(status=OpportunityStatus.OPEN), scope).filter(~ever),
                   keys, n=Count("account_id", distinct=True))
    out = {(g["owner_id"] if by_owner else TOTAL): g["n"] for g in rows}
    if not by_owner:
        out.setdefault(TOTAL, 0)
    return out

