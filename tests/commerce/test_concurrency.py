"""Two clerks invoicing the last unit of a line at once: exactly one invoice, no gap in numbers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from rapport.commerce.models import Invoice, Order
from rapport.commerce.services import OverInvoicing, invoice_create

from .conftest import TODAY


def _in_thread(target, results: list, index: int) -> None:
    try:
        results[index] = target()
    except Exception as exc:  # noqa: BLE001 - the test inspects what each writer got
        results[index] = exc
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_invoices_of_the_last_unit_one_wins(make_order, rep, teammate) -> None:
    # given: an order line of 10 with 9 already invoiced
    order = make_order()
    line = order.lines.order_by("position").first()
    invoice_create(actor=rep, order=order, lines=[(line.pk, 9)], issue_date=TODAY)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def clerk(actor):
        def run():
            mine = Order.objects.get(pk=order.pk)
            barrier.wait()
            return invoice_create(actor=actor, order=mine, lines=[(line.pk, 1)], issue_date=TODAY)

        return run

    # when: two users invoice the last unit at the same moment
    threads = [threading.Thread(target=_in_thread, args=(clerk(u), results, i)) for i, u in enumerate([rep, teammate])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then: one invoice, one refusal, and the numbers have no gap
    assert sorted(type(r).__name__ for r in results) == ["Invoice", "OverInvoicing"], results
    assert any(isinstance(r, OverInvoicing) for r in results)
    assert list(Invoice.objects.order_by("sequence").values_list("number", flat=True)) == [
        "INV-2026-00001", "INV-2026-00002",
    ]  # fmt: skip
