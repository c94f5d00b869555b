"""The commerce pages: lists, details, the overdue filter, and the writes they offer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.models import Invoice, Payment, Shipment
from rapport.commerce.services import LineSpec, invoice_create
from rapport.core.choices import Role


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_product_pages_escape_what_users_typed(shop, admin_user, rep) -> None:
    catalogue.product_create(actor=admin_user, sku="X-1", name="<script>alert(1)</script>", tax_category="standard")
    client = _client(rep)
    page = client.get("/products/", {"q": "X-1"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Widget" not in page  # the filter applies
    detail = client.get(f"/products/{shop['widget'].pk}/").content.decode()
    assert "List EUR" in detail and "10.00 EUR" in detail


def test_order_pages_show_lines_totals_and_hide_other_teams_orders(make_order, rep, other_rep) -> None:
    order = make_order()
    client = _client(rep)
    listing = client.get("/orders/").content.decode()
    assert order.number in listing and "314.60 EUR" in listing
    detail = client.get(f"/orders/{order.pk}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "Set-up" in body and "54.60 EUR" in body  # tax 21 % of 260.00
    assert _client(other_rep).get(f"/orders/{order.pk}/").status_code == 404
    assert order.number not in _client(other_rep).get("/orders/").content.decode()


def test_htmx_list_request_gets_only_the_results_partial(make_order, rep) -> None:
    make_order()
    response = _client(rep).get("/orders/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert b"<html" not in response.content and b"SO-2026-00001" in response.content


def test_ship_and_invoice_from_the_order_page(make_order, rep) -> None:
    order = make_order()
    widget_line = order.lines.order_by("position").first()
    client = _client(rep)
    refused = client.post(f"/orders/{order.pk}/ship/", {f"qty_{widget_line.pk}": "11", "carrier": "DHL"})
    assert refused.status_code == 422 and "only 10.000 of 10.000 are left" in refused.content.decode()
    assert Shipment.objects.count() == 0
    shipped = client.post(
        f"/orders/{order.pk}/ship/", {f"qty_{widget_line.pk}": "10", "carrier": "DHL", "tracking_number": "T-1"}
    )
    assert shipped.status_code == 302 and Shipment.objects.get().tracking_number == "T-1"
    invoiced = client.post(f"/orders/{order.pk}/invoice/")
    invoice = Invoice.objects.get()
    assert invoiced.status_code == 302 and invoiced["Location"] == f"/invoices/{invoice.pk}/"
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'href="/invoices/{invoice.pk}/"' in page
    assert "Invoice the rest" not in page and "Record shipment" not in page  # nothing left to do


def test_invoice_list_overdue_filter_and_payment_form(make_order, rep, manager) -> None:
    old = invoice_create(actor=rep, order=make_order(), issue_date=dt.date(2020, 1, 1))
    fresh = invoice_create(actor=rep, order=make_order(), issue_date=dt.date(2999, 1, 1))
    client = _client(manager)
    overdue = client.get("/invoices/", {"overdue": "yes"}).content.decode()
    assert old.number in overdue and fresh.number not in overdue
    too_much = client.post(
        f"/invoices/{old.pk}/", {"amount": "999", "paid_on": "2020-02-01", "method": "bank_transfer"}
    )
    assert too_much.status_code == 422 and "At most 314.60" in too_much.content.decode()
    paid = client.post(f"/invoices/{old.pk}/", {"amount": "314.60", "paid_on": "2020-02-01", "method": "card"})
    assert paid.status_code == 302
    old.refresh_from_db()
    assert old.payment_status == "paid" and Payment.objects.count() == 1
    assert old.number not in client.get("/invoices/", {"overdue": "yes"}).content.decode()


def test_a_rep_sees_no_payment_form_and_a_post_is_refused(make_order, rep) -> None:
    invoice = invoice_create(actor=rep, order=make_order())
    client = _client(rep)
    assert "Record payment" not in client.get(f"/invoices/{invoice.pk}/").content.decode()
    response = client.post(f"/invoices/{invoice.pk}/", {"amount": "1", "paid_on": "2026-01-01", "method": "card"})
    assert response.status_code == 403 and Payment.objects.count() == 0


@pytest.mark.parametrize(("role", "sees_orders"), [(Role.SALES_REP, True), (Role.MARKETER, False)])
def test_nav_links_follow_the_role(make_user, team_a, role, sees_orders) -> None:
    page = _client(make_user(role, team_a)).get("/").content.decode()
    assert ('href="/orders/"' in page) == sees_orders
    assert 'href="/products/"' in page


def test_bundle_detail_lists_components(shop, admin_user, rep, make_order) -> None:
    kit = catalogue.product_create(actor=admin_user, sku="K-1", name="Kit", components=[(shop["widget"], "2")])
    make_order(lines=[LineSpec(product=kit, quantity=1)])
    page = _client(rep).get(f"/products/{kit.pk}/").content.decode()
    assert "Bundle of" in page and "Widget" in page


def test_the_account_page_links_to_its_orders_and_invoices(make_order, rep, account, make_user, team_a) -> None:
    order = make_order()
    page = _client(rep).get(f"/accounts/{account.pk}/").content.decode()
    assert f'href="/orders/?account_id={account.pk}"' in page
    assert f'href="/invoices/?account_id={account.pk}"' in page
    assert order.number in _client(rep).get("/orders/", {"account_id": account.pk}).content.decode()
    assert order.number not in _client(rep).get("/orders/", {"account_id": account.pk + 1}).content.decode()
    marketer_page = _client(make_user(Role.MARKETER, team_a)).get(f"/accounts/{account.pk}/").content.decode()
    assert "/orders/?account_id" not in marketer_page
