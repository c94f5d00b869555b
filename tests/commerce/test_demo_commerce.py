"""The demo's order history: built through the services, consistent, and reproducible."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

from django.core.management import call_command

from rapport.commerce.models import Invoice, Order, OrderLine

TODAY = dt.date(2025, 6, 1)


def _run(**options) -> str:
    out = StringIO()
    call_command("demo", accounts=30, contacts=60, interactions=300, orders=20, today=TODAY, stdout=out, **options)
    return out.getvalue()


def _fingerprint() -> list[tuple]:
    return list(Order.objects.order_by("number").values_list("number", "account_id", "total", "status"))


def test_demo_orders_are_consistent_and_reproducible(db) -> None:
    assert "20 orders" in _run()
    orders = list(Order.objects.all())
    assert len(orders) == 20
    for order in orders:
        lines = OrderLine.objects.filter(order=order)
        assert order.total == sum((line.total for line in lines), Decimal(0))
        assert order.invoiced_total <= order.total
        assert order.order_date <= TODAY
    numbers = sorted(Invoice.objects.values_list("sequence", "year"))
    by_year: dict[int, list[int]] = {}
    for sequence, year in numbers:
        by_year.setdefault(year, []).append(sequence)
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_year.values())  # gap-free per year
    assert Invoice.objects.filter(payment_status="paid").exists()
    first = _fingerprint()
    _run(reset=True)
    assert _fingerprint() == first
