"""Keeping ``AccountPurchaseStats`` (each account's first and last order day) equal to the orders.

The one rule: after any write that can change which non-cancelled orders an account has — an
order placed or cancelled, an account merged or its merge undone — call
:func:`purchase_stats_refresh` with the accounts concerned, in the same transaction. It
recomputes their rows from ``Order`` (never increments), so calling it twice or for an
untouched account is harmless. :func:`purchase_stats_rebuild` recomputes every row (the
migration's backfill, a bulk load that wrote orders in SQL).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Max, Min

from rapport.commerce.choices import OrderStatus
from rapport.commerce.models import AccountPurchaseStats, Order
from rapport.parties.models import Account


def purchase_stats_refresh(account_ids: Iterable[int | None]) -> None:
    """Recompute the rows of ``account_ids`` from their non-cancelled orders (no order: no row).

    The accounts are locked first (in id order, so two refreshes cannot deadlock): two orders
    placed at once for one account then refresh one after the other, and the second, reading
    after the first committed, sees both orders."""
    ids = sorted({pk for pk in account_ids if pk is not None})
    if not ids:
        return
    list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    spans = (Order.objects.filter(account_id__in=ids).exclude(status=OrderStatus.CANCELLED)
             .values("account_id").annotate(first=Min("order_date"), last=Max("order_date")).order_by())
    rows = [AccountPurchaseStats(account_id=s["account_id"], first_order_date=s["first"], last_order_date=s["last"])
            for s in spans]
    AccountPurchaseStats.objects.filter(account_id__in=ids).exclude(
        account_id__in=[r.account_id for r in rows]).delete()
    AccountPurchaseStats.objects.bulk_create(rows, update_conflicts=True, unique_fields=["account"],
                                             update_fields=["first_order_date", "last_order_date"])


# The migration that created the table (commerce 0004) runs the same statement on its own copy.
REBUILD_SQL = (
    'INSERT INTO "{stats}" (account_id, first_order_date, last_order_date) '
    'SELECT o.account_id, MIN(o.order_date), MAX(o.order_date) FROM "{orders}" o '
    "WHERE NOT (o.status = %s) GROUP BY o.account_id"
)


def purchase_stats_rebuild() -> int:
    """Every row recomputed from the orders in one statement; returns the number of rows."""
    AccountPurchaseStats.objects.all().delete()
    sql = REBUILD_SQL.format(stats=AccountPurchaseStats._meta.db_table, orders=Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [OrderStatus.CANCELLED.value])  # only table names are interpolated
    return AccountPurchaseStats.objects.count()


def merge_refresh(*, model: type, survivor_id: int, duplicate_id: int) -> None:
    """Merge listener (``parties.merge_engine``): an account merge moved orders from the duplicate to
    the survivor (its undo moves them back), so both summaries are recomputed."""
    if model is Account:
        purchase_stats_refresh([survivor_id, duplicate_id])
