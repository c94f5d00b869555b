"""Orders, shipments, invoices and payments through the services, on a real database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.contrib.contenttypes.models import ContentType

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.models import Invoice, InvoiceLine, NumberSequence, Order, OrderLine, Shipment
from rapport.commerce.money import CurrencyMismatch
from rapport.commerce.pricing import NoPrice, NoTaxRate, price_lookup
from rapport.commerce.services import (
    LineSpec,
    OrderClosed,
    OverInvoicing,
    OverPayment,
    OverShipment,
    invoice_create,
    order_cancel,
    order_create_from_lines,
    order_update,
    payment_record,
    shipment_create,
)
from rapport.core.errors import Conflict, ValidationFailed
from rapport.core.models import AuditEvent

from .conftest import TODAY


def _counts() -> tuple[int, int, int, int]:
    return Order.objects.count(), OrderLine.objects.count(), Invoice.objects.count(), Shipment.objects.count()


def test_order_totals_apply_prices_discounts_and_taxes_per_line(shop, make_order, rep) -> None:
    order = make_order(
        lines=[
            LineSpec(product=shop["widget"], quantity="3", discount_kind="percent", discount_value="10"),
            LineSpec(product=shop["gadget"], quantity="4", unit_price="2.4999"),
            LineSpec(product=shop["setup"], quantity="1.5", discount_kind="amount", discount_value="20"),
        ]
    )
    lines = list(order.lines.order_by("position"))
    # widget 3 × 10 = 30, −10 % = 27.00, tax 21 % = 5.67
    assert (lines[0].net, lines[0].discount_amount, lines[0].tax) == (D("27.00"), D("3.00"), D("5.67"))
    # gadget 4 × 2.4999 = 9.9996 → 10.00, tax 9 % = 0.90
    assert (lines[1].net, lines[1].tax, lines[1].tax_rate) == (D("10.00"), D("0.90"), D("9"))
    # set-up 1.5 × 80 = 120 − 20 = 100.00, tax 21 % = 21.00
    assert (lines[2].net, lines[2].tax) == (D("100.00"), D("21.00"))
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        D("160.00"),
        D("23.00"),
        D("27.57"),
        D("164.57"),
    )
    assert order.number == "SO-2026-00001" and order.owner == rep and order.team_id == rep.team_id
    assert order.fulfilment_status == "unfulfilled"
    assert AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=order.pk, action="create"
    ).exists()


def test_tax_country_picks_the_country_rate(shop, make_order) -> None:
    order = make_order(lines=[LineSpec(product=shop["widget"], quantity=1)], tax_country="de")
    assert order.lines.get().tax_rate == D("19") and order.tax_total == D("1.90")


def test_price_lookup_prefers_the_tier_book_and_the_largest_volume_tier(shop, admin_user) -> None:
    gold = catalogue.price_book_create(actor=admin_user, name="Gold EUR", currency="EUR", tier="gold")
    catalogue.price_book_entry_set(actor=admin_user, price_book=gold, product=shop["widget"], unit_price="9.00")
    catalogue.price_book_entry_set(
        actor=admin_user,
        price_book=gold,
        product=shop["widget"],
        unit_price="8.00",
        min_quantity="100",
        discount_kind="percent",
        discount_value="5",
    )
    widget = shop["widget"]
    assert price_lookup(product=widget, currency="EUR", on=TODAY, quantity=D(1)).unit_price == D("10.00")
    assert price_lookup(product=widget, currency="EUR", on=TODAY, quantity=D(99), tier="gold").unit_price == D("9.00")
    big = price_lookup(product=widget, currency="EUR", on=TODAY, quantity=D(100), tier="gold")
    assert (big.unit_price, big.discount_kind, big.discount_value) == (D("8.00"), "percent", D("5"))


def test_an_expired_price_book_is_not_used(shop, admin_user) -> None:
    catalogue.price_book_update(
        actor=admin_user, price_book=shop["usd"], data={"valid_until": dt.date(2026, 1, 1)}, expected_version=1
    )
    with pytest.raises(NoPrice):
        price_lookup(product=shop["widget"], currency="USD", on=TODAY)


def test_a_bundle_without_its_own_price_costs_its_components(shop, admin_user, make_order) -> None:
    kit = catalogue.product_create(
        actor=admin_user,
        sku="K-1",
        name="Kit",
        tax_category="standard",
        components=[(shop["widget"], "2"), (shop["gadget"], "3")],
    )
    assert price_lookup(product=kit, currency="EUR", on=TODAY).unit_price == D("27.50")
    order = make_order(lines=[LineSpec(product=kit, quantity=2)])
    assert order.subtotal == D("55.00")


def test_a_bundle_cannot_nest_or_contain_itself(shop, admin_user) -> None:
    kit = catalogue.product_create(actor=admin_user, sku="K-1", name="Kit", components=[(shop["widget"], 1)])
    with pytest.raises(ValidationFailed):
        catalogue.product_create(actor=admin_user, sku="K-2", name="Kit of kits", components=[(kit, 1)])
    with pytest.raises(ValidationFailed):
        catalogue.product_create(actor=admin_user, sku="K-3", name="Bad", components=[(shop["widget"], "-1")])


def test_an_order_in_one_currency_with_a_price_book_in_another_is_refused(shop, make_order) -> None:
    before = _counts()
    with pytest.raises(CurrencyMismatch) as exc:
        make_order(currency="EUR", price_book=shop["usd"])
    assert exc.value.slug == "currency-mismatch" and "price_book_id" in exc.value.field_errors
    assert _counts() == before
    assert not NumberSequence.objects.filter(kind="order").exists()


@pytest.mark.parametrize("quantity", ["-1", "0", "abc", "1.0001", "100000000000"])
def test_a_non_positive_or_malformed_quantity_is_refused_and_nothing_written(shop, make_order, quantity) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        make_order(
            lines=[LineSpec(product=shop["widget"], quantity=1), LineSpec(product=shop["gadget"], quantity=quantity)]
        )
    assert "lines.1.quantity" in exc.value.field_errors
    assert _counts() == before


def test_no_price_no_tax_rate_and_inactive_products_are_refused(shop, admin_user, make_order) -> None:
    with pytest.raises(NoPrice):
        make_order(currency="USD", lines=[LineSpec(product=shop["gadget"], quantity=1)])
    odd = catalogue.product_create(actor=admin_user, sku="O-1", name="Odd", tax_category="luxury")
    with pytest.raises(NoTaxRate):
        make_order(lines=[LineSpec(product=odd, quantity=1, unit_price="1")])
    catalogue.product_update(actor=admin_user, product=shop["gadget"], data={"active": False}, expected_version=1)
    with pytest.raises(ValidationFailed):
        make_order(lines=[LineSpec(product=shop["gadget"], quantity=1)])
    assert Order.objects.count() == 0


def test_a_stale_version_is_a_conflict_and_changes_nothing(make_order, rep) -> None:
    order = make_order()
    order_update(actor=rep, order=order, data={"notes": "first"}, expected_version=1)
    stale = Order.objects.get(pk=order.pk)
    stale.version = 1
    with pytest.raises(Conflict) as exc:
        order_update(actor=rep, order=stale, data={"notes": "second"}, expected_version=1)
    assert exc.value.current_version == 2
    assert Order.objects.get(pk=order.pk).notes == "first"


def test_shipping_more_than_ordered_is_refused(make_order, rep) -> None:
    order = make_order()
    widget_line, setup_line = order.lines.order_by("position")
    shipment_create(actor=rep, order=order, lines=[(widget_line.pk, "4")], carrier="DHL", tracking_number="JD01")
    order.refresh_from_db()
    assert order.fulfilment_status == "partial"
    with pytest.raises(OverShipment) as exc:
        shipment_create(actor=rep, order=order, lines=[(widget_line.pk, "6.001")])
    assert exc.value.field_errors == {"lines.0.quantity": ["At most 6.000."]}
    with pytest.raises(ValidationFailed):  # a service is not shipped
        shipment_create(actor=rep, order=order, lines=[(setup_line.pk, "1")])
    assert Shipment.objects.count() == 1
    shipment_create(actor=rep, order=order, lines=[(widget_line.pk, "6")])
    order.refresh_from_db()
    assert order.fulfilment_status == "fulfilled"


def test_partial_invoices_sum_exactly_to_the_line_and_over_invoicing_is_refused(shop, make_order, rep) -> None:
    # 3 × 3.333 = 9.999 → 10.00 net, tax 2.10: thirds of it round to 3.33, the last takes 3.34.
    order = make_order(lines=[LineSpec(product=shop["widget"], quantity=3, unit_price="3.333")])
    line = order.lines.get()
    first = invoice_create(actor=rep, order=order, lines=[(line.pk, 1)], issue_date=TODAY)
    second = invoice_create(actor=rep, order=order, lines=[(line.pk, 1)], issue_date=TODAY)
    assert (first.subtotal, first.tax_total, first.total) == (D("3.33"), D("0.70"), D("4.03"))
    with pytest.raises(OverInvoicing) as exc:
        invoice_create(actor=rep, order=order, lines=[(line.pk, 2)], issue_date=TODAY)
    assert exc.value.slug == "over-invoicing"
    assert Invoice.objects.count() == 2
    third = invoice_create(actor=rep, order=order, issue_date=TODAY)  # the rest
    assert third.lines.get().quantity == D(1)
    assert third.subtotal == D("3.34")
    assert sum(i.subtotal for i in (first, second, third)) == line.net
    assert sum(i.total for i in (first, second, third)) == line.total == order.total
    assert [i.number for i in (first, second, third)] == ["INV-2026-00001", "INV-2026-00002", "INV-2026-00003"]
    assert third.due_date == TODAY + dt.timedelta(days=30)
    order.refresh_from_db()
    assert order.invoiced_total == order.total and order.status == "open"  # not shipped yet
    shipment_create(actor=rep, order=order, lines=[(line.pk, 3)])
    order.refresh_from_db()
    assert order.status == "completed"
    with pytest.raises(OrderClosed):
        invoice_create(actor=rep, order=order)


def test_a_refused_invoice_gives_its_number_back(make_order, rep) -> None:
    order = make_order()
    line = order.lines.first()
    with pytest.raises(OverInvoicing):
        invoice_create(actor=rep, order=order, lines=[(line.pk, 11)], issue_date=TODAY)
    invoice = invoice_create(actor=rep, order=order, lines=[(line.pk, 1)], issue_date=TODAY)
    assert invoice.number == "INV-2026-00001"
    assert InvoiceLine.objects.count() == 1


def test_payments_move_the_status_and_overpayment_or_another_currency_is_refused(make_order, rep, manager) -> None:
    order = make_order()
    invoice = invoice_create(actor=rep, order=order, issue_date=TODAY)
    assert invoice.total == D("314.60")  # (100 + 160) × 1.21
    with pytest.raises(CurrencyMismatch):
        payment_record(actor=manager, invoice=invoice, amount="10", currency="USD")
    payment_record(actor=manager, invoice=invoice, amount="100.00", currency="EUR")
    invoice.refresh_from_db()
    assert (invoice.payment_status, invoice.amount_paid, invoice.outstanding) == ("partial", D("100"), D("214.60"))
    with pytest.raises(OverPayment):
        payment_record(actor=manager, invoice=invoice, amount="214.61", currency="EUR")
    with pytest.raises(ValidationFailed):
        payment_record(actor=manager, invoice=invoice, amount="1.001", currency="EUR")
    payment_record(actor=manager, invoice=invoice, amount="214.60", currency="EUR")
    invoice.refresh_from_db()
    assert invoice.payment_status == "paid" and invoice.payments.count() == 2


def test_cancel_only_before_anything_was_shipped_or_invoiced(make_order, rep) -> None:
    order = make_order()
    invoice_create(actor=rep, order=order, lines=[(order.lines.first().pk, 1)])
    order.refresh_from_db()
    with pytest.raises(OrderClosed):
        order_cancel(actor=rep, order=order, expected_version=order.version)
    other = make_order()
    order_cancel(actor=rep, order=other, expected_version=1)
    other.refresh_from_db()
    assert other.status == "cancelled"
    with pytest.raises(OrderClosed):
        shipment_create(actor=rep, order=other, lines=[(other.lines.first().pk, 1)])


def test_order_for_an_account_the_actor_cannot_see_is_not_found(shop, other_rep, account) -> None:
    from rapport.core.errors import NotFound

    with pytest.raises(NotFound):
        order_create_from_lines(
            actor=other_rep, account=account, currency="EUR", lines=[LineSpec(product=shop["widget"], quantity=1)]
        )
    assert Order.objects.count() == 0


def test_the_contact_must_belong_to_the_account(make_order, rep, account) -> None:
    from rapport.parties.services import account_create, contact_create

    elsewhere = account_create(actor=rep, data={"name": "Elsewhere"})
    stranger = contact_create(actor=rep, data={"last_name": "Stranger", "account_id": elsewhere.pk})
    buyer = contact_create(actor=rep, data={"last_name": "Buyer", "account_id": account.pk})
    with pytest.raises(ValidationFailed) as exc:
        make_order(contact=stranger)
    assert "contact_id" in exc.value.field_errors
    order = make_order(contact=buyer)
    assert order.contact == buyer
    with pytest.raises(ValidationFailed):
        order_update(actor=rep, order=order, data={"contact": stranger}, expected_version=order.version)
    lines_event = AuditEvent.objects.get(
        content_type=ContentType.objects.get_for_model(Order), object_id=order.pk, action="create"
    )
    sku, quantity, unit_price, total = lines_event.changes["lines"][1][0]  # [before, after]: after, first line
    assert (sku, D(quantity), D(unit_price), total) == ("W-1", D(10), D(10), "121.00")
