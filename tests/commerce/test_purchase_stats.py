"""The per-account purchase summary (``commerce.AccountPurchaseStats``) follows the orders: placed,
cancelled, accounts merged and merges undone; and a rebuild from the orders gives the same rows."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.commerce.models import AccountPurchaseStats
from rapport.commerce.purchase_stats import purchase_stats_rebuild
from rapport.commerce.services import order_cancel
from rapport.parties.merge_accounts import account_merge, account_merge_undo
from rapport.parties.services import account_create

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 10)


def _span(account) -> tuple[dt.date, dt.date] | None:
    row = AccountPurchaseStats.objects.filter(account=account).first()
    return (row.first_order_date, row.last_order_date) if row else None


def _rows() -> set[tuple[int, dt.date, dt.date]]:
    return set(AccountPurchaseStats.objects.values_list("account_id", "first_order_date", "last_order_date"))


def test_placing_orders_moves_the_first_and_last_day(make_order, account) -> None:
    assert _span(account) is None
    make_order(order_date=DAY)
    assert _span(account) == (DAY, DAY)
    make_order(order_date=DAY - dt.timedelta(days=30))
    make_order(order_date=DAY + dt.timedelta(days=5))
    assert _span(account) == (DAY - dt.timedelta(days=30), DAY + dt.timedelta(days=5))


def test_cancelling_the_first_order_moves_the_first_day_on_and_the_last_one_removes_the_row(
    make_order, account, rep
) -> None:
    early = make_order(order_date=DAY - dt.timedelta(days=30))
    late = make_order(order_date=DAY)
    order_cancel(actor=rep, order=early, expected_version=early.version)
    assert _span(account) == (DAY, DAY)
    order_cancel(actor=rep, order=late, expected_version=late.version)
    assert _span(account) is None  # never ordered (cancelled orders are no purchase)


def test_a_failed_order_leaves_the_summary_alone(make_order, account, shop) -> None:
    from rapport.commerce.services import LineSpec
    from rapport.core.errors import ValidationFailed

    make_order(order_date=DAY)
    with pytest.raises(ValidationFailed):
        make_order(order_date=DAY - dt.timedelta(days=99), lines=[LineSpec(product=shop["widget"], quantity="-1")])
    assert _span(account) == (DAY, DAY)


def test_an_account_merge_combines_both_spans_and_undo_splits_them_again(make_order, account, rep) -> None:
    duplicate = account_create(actor=rep, data={"name": "Buyer Limited"})
    make_order(order_date=DAY)
    make_order(account=duplicate, order_date=DAY - dt.timedelta(days=60))
    make_order(account=duplicate, order_date=DAY - dt.timedelta(days=40))
    merge = account_merge(actor=rep, survivor=account, duplicate=duplicate)
    assert _span(account) == (DAY - dt.timedelta(days=60), DAY)
    assert not AccountPurchaseStats.objects.filter(account_id=duplicate.pk).exists()
    account_merge_undo(actor=rep, merge=merge)
    assert _span(account) == (DAY, DAY)
    assert _span(duplicate) == (DAY - dt.timedelta(days=60), DAY - dt.timedelta(days=40))


def test_merging_a_buyer_into_an_account_that_never_ordered_and_back(make_order, rep) -> None:
    survivor = account_create(actor=rep, data={"name": "Prospect Ltd"})
    duplicate = account_create(actor=rep, data={"name": "Prospect Limited"})
    make_order(account=duplicate, order_date=DAY)
    merge = account_merge(actor=rep, survivor=survivor, duplicate=duplicate)
    assert _span(survivor) == (DAY, DAY)
    account_merge_undo(actor=rep, merge=merge)
    assert _span(survivor) is None
    assert _span(duplicate) == (DAY, DAY)


def test_rebuilding_from_the_orders_gives_the_rows_the_services_kept(make_order, account, rep) -> None:
    other = account_create(actor=rep, data={"name": "Other Ltd"})
    make_order(order_date=DAY)
    make_order(account=other, order_date=DAY - dt.timedelta(days=3))
    gone = make_order(account=other, order_date=DAY - dt.timedelta(days=9))
    order_cancel(actor=rep, order=gone, expected_version=gone.version)
    kept = _rows()
    assert purchase_stats_rebuild() == 2
    assert _rows() == kept
