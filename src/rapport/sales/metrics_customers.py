"""Customer figures of a period: prospective, new and retained customers and the retention rate.

A *purchase* is a non-cancelled order (``order_date``) or a won deal (``closed_at``). Which rows
count for a rep or team is the order's or deal's owner/team, narrowed by ``core.permissions``;
whether an account bought *before* is a fact about the customer, checked over every order and
deal (a customer first won by another team is not new for this one).

All counts are ``COUNT(DISTINCT account_id)`` in SQL; a customer a rep and a teammate both sold
to counts once for each of them and once in the total. "Ever ordered, and first when" is read
from ``commerce.AccountPurchaseStats`` (one row per account that ordered, kept by the order
services and merges), not by probing millions of orders: new customers start from the few
accounts whose first order or first won deal falls in the window, then probe each one's own
purchases in scope on the ``(account, date)`` indexes.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.db.models.functions import TruncDate

from rapport.commerce.choices import OrderStatus
from rapport.commerce.models import AccountPurchaseStats, Order
from rapport.core.models import User
from rapport.sales.choices import OpportunityStatus
from rapport.sales.metrics_deals import TOTAL, grouped
from rapport.sales.metrics_scope import Period, Scope, owned
from rapport.sales.models import Opportunity


def _orders() -> QuerySet[Order]:
    return Order.objects.exclude(status=OrderStatus.CANCELLED)


def _stats_table() -> str:
    return AccountPurchaseStats._meta.db_table


def _won_everyone(first: Any, after: Any) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(status=OpportunityStatus.WON, closed_at__gte=first, closed_at__lt=after)


def _first_purchases(start: Period, end: Period) -> tuple[str, list[Any]]:
    """SQL of ``(account_id, first)``: every account whose first purchase ever — by anyone —
    falls from ``start``'s first to ``end``'s last day, with that day.

    The first order day comes from ``commerce.AccountPurchaseStats`` (an index range scan, not a
    probe of every order); won deals are few enough to read. An account is kept only when it
    bought nothing before the window: no earlier first order, no deal won before."""
    window_start, _ = start.dt_range()
    _, window_after = end.dt_range()
    won = _won_everyone(window_start, window_after).annotate(d=TruncDate("closed_at"))
    won_sql, won_params = won.values("account_id", "d").order_by().query.sql_with_params()
    stats, deal_t = _stats_table(), Opportunity._meta.db_table
    sql = (
        f'SELECT a.account_id, MIN(a.d) AS first FROM (SELECT account_id, first_order_date AS d FROM "{stats}" '
        f"WHERE first_order_date BETWEEN %s AND %s UNION ALL SELECT * FROM ({won_sql}) w0) a "
        f'WHERE NOT EXISTS (SELECT 1 FROM "{stats}" x WHERE x.account_id = a.account_id AND x.first_order_date < %s) '
        f'AND NOT EXISTS (SELECT 1 FROM "{deal_t}" y WHERE y.account_id = a.account_id AND y.status = %s '
        f"AND y.closed_at < %s) GROUP BY a.account_id"
    )
    return sql, [start.start, end.end, *won_params, start.start, OpportunityStatus.WON, window_start]


def new_customers(*, actor: User, scope: Scope, period: Period, by_owner: bool = False) -> dict[Any, int]:
    """Accounts whose first purchase is in the period and who bought in scope in it (per owner: from
    that owner), ``COUNT(DISTINCT account_id)``."""
    fresh, p_fresh = _first_purchases(period, period)
    scoped, p_scoped = _purchases(actor, scope, period, period, owner=True)
    head = "s.owner_id, " if by_owner else ""
    tail = " GROUP BY s.owner_id" if by_owner else ""
    sql = (f"SELECT {head}COUNT(DISTINCT s.account_id) FROM ({scoped}) s "
           f"WHERE s.account_id IN (SELECT f.account_id FROM ({fresh}) f){tail}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*p_scoped, *p_fresh])  # noqa: S608 - only table names and the ORM's own SQL
        rows = cursor.fetchall()
    if by_owner:
        return dict(rows)
    return {TOTAL: rows[0][0] if rows else 0}


def _purchase_parts(actor: User | None, scope: Scope, start: Period, end: Period, *, owner: bool = False
                    ) -> list[tuple[str, tuple[Any, ...]]]:
    """SQL and parameters of ``(account_id, d[, owner_id])``, orders then won deals: every purchase
    from ``start``'s first to ``end``'s last day, in scope for ``actor`` (``None``: everyone's)."""
    first, _ = start.dt_range()
    _, after = end.dt_range()
    orders = _orders().filter(order_date__range=(start.start, end.end))
    deals = _won_everyone(first, after)
    if actor is not None:
        orders, deals = owned(actor, orders, scope), owned(actor, deals, scope)
    columns = ("account_id", "d", "owner_id") if owner else ("account_id", "d")
    parts = [qs.values(*columns).order_by().query.sql_with_params()
             for qs in (orders.annotate(d=F("order_date")), deals.annotate(d=TruncDate("closed_at")))]
    return parts


def _purchases(actor: User | None, scope: Scope, start: Period, end: Period, *, owner: bool = False
               ) -> tuple[str, list[Any]]:
    """:func:`_purchase_parts` as one ``UNION ALL``."""
    sql = " UNION ALL ".join(f"SELECT * FROM ({part}) q{i}" for i, (part, _) in
                             enumerate(_purchase_parts(actor, scope, start, end, owner=owner)))
    return sql, [p for _, params in _purchase_parts(actor, scope, start, end, owner=owner) for p in params]


def _period_case(periods: list[Period], value: Any) -> tuple[str, list[Any]]:
    """``CASE WHEN f.first BETWEEN <start> AND <end> THEN value(index, period) … END`` over ``periods``."""
    parts, params = [], []
    for index, period in enumerate(periods):
        parts.append("WHEN f.first BETWEEN %s AND %s THEN %s")
        params.extend([period.start, period.end, value(index, period)])
    return "CASE " + " ".join(parts) + " END", params


def new_customers_series(*, actor: User, scope: Scope, periods: list[Period]) -> list[int]:
    """New customers of each of ``periods`` (consecutive, oldest first) in one query.

    Same definition as :func:`new_customers`: the accounts whose first purchase ever falls in the
    window (:func:`_first_purchases`, a few per period), each kept when it also bought in scope in
    the period of that first purchase — an ``EXISTS`` probe on the account's own purchases."""
    fresh, p_fresh = _first_purchases(periods[0], periods[-1])
    (orders, p_orders), (deals, p_deals) = _purchase_parts(actor, scope, periods[0], periods[-1])
    # Per first purchase: its period's index and bounds, so the probe of the account's scoped
    # purchases is ``account_id = … AND d BETWEEN …`` — an (account, date) index range, never a
    # CASE over every purchase of the window.
    index_sql, p_index = _period_case(periods, lambda i, p: i)
    start_sql, p_start = _period_case(periods, lambda i, p: p.start)
    end_sql, p_end = _period_case(periods, lambda i, p: p.end)
    sql = (
        f"SELECT n.b, COUNT(*) FROM (SELECT f.account_id, {index_sql} AS b, {start_sql} AS bs, {end_sql} AS be "
        f"FROM ({fresh}) f) n "
        # Two EXISTS joined by OR, not one over a UNION: PostgreSQL turns a single EXISTS into a
        # hash semi-join over every purchase of the window; OR keeps one index probe per account.
        f"WHERE EXISTS (SELECT 1 FROM ({orders}) o WHERE o.account_id = n.account_id AND o.d BETWEEN n.bs AND n.be) "
        f"OR EXISTS (SELECT 1 FROM ({deals}) w WHERE w.account_id = n.account_id AND w.d BETWEEN n.bs AND n.be) "
        f"GROUP BY n.b"
    )
    params = [*p_index, *p_start, *p_end, *p_fresh, *p_orders, *p_deals]
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
    # An account ever ordered exactly when it has a purchase summary row (commerce.AccountPurchaseStats).
    ever = Exists(AccountPurchaseStats.objects.filter(account_id=OuterRef("account_id")))
    rows = grouped(owned(actor, Opportunity.objects.filter(status=OpportunityStatus.OPEN), scope).filter(~ever),
                   keys, n=Count("account_id", distinct=True))
    out = {(g["owner_id"] if by_owner else TOTAL): g["n"] for g in rows}
    if not by_owner:
        out.setdefault(TOTAL, 0)
    return out

