"""Permission matrix of every commerce API resource.

Who: anonymous; a rep of another team; the manager of another team; a teammate of the owner;
the owner's team manager; an analyst (reads, never writes); a marketer (may not see orders at
all); the owner (a rep); an administrator. Orders and subscriptions default to team visibility:
reps see their own and their team's, managers their team's. Shipments, invoices and payments
follow their order. The catalogue is reference data: every role that sells may read it, only
managers and administrators change it.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from rapport.commerce.models import Invoice, Order, Payment, PriceBook, Product, Shipment, Subscription
from rapport.commerce.services import invoice_create, subscription_create
from rapport.core.choices import Role

JSON = "application/json"
WHO = ["anonymous", "other_team", "other_manager", "teammate", "manager", "analyst", "marketer", "owner", "admin"]


@pytest.fixture
def world(
    settings, rep, teammate, other_rep, manager, analyst, admin_user, make_user, team_b, make_order, shop, account
):
    settings.RAPPORT_COMPANY_CURRENCY = "EUR"
    other_manager = make_user(Role.SALES_MANAGER, team_b, username="other_manager")
    team_b.manager = other_manager
    team_b.save(update_fields=["manager"])
    order = make_order()
    invoice = invoice_create(actor=rep, order=order, lines=[(order.lines.first().pk, 1)])
    order.refresh_from_db()  # the invoice moved its version
    subscription = subscription_create(
        actor=rep, account=account, product=shop["plan"], amount="10", currency="EUR", start_date=dt.date(2026, 1, 1)
    )
    users = {
        "anonymous": None,
        "other_team": other_rep,
        "other_manager": other_manager,
        "teammate": teammate,
        "manager": manager,
        "analyst": analyst,
        "marketer": make_user(Role.MARKETER, None, username="marketer"),
        "owner": rep,
        "admin": admin_user,
    }
    return {"order": order, "invoice": invoice, "subscription": subscription, "users": users, "shop": shop}


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _json(client: Client, method: str, url: str, body: dict):
    return getattr(client, method)(url, data=json.dumps(body), content_type=JSON)


ORDER_READ = {
    "anonymous": 401, "other_team": 404, "other_manager": 404, "teammate": 200, "manager": 200,
    "analyst": 200, "marketer": 403, "owner": 200, "admin": 200,
}  # fmt: skip
ORDER_WRITE = {**ORDER_READ, "analyst": 403}


@pytest.mark.parametrize("who", WHO)
def test_order_and_what_hangs_off_it_read_matrix(world, who) -> None:
    client = _client(world["users"][who])
    order, invoice = world["order"], world["invoice"]
    shipment_list = client.get(f"/api/v1/orders/{order.pk}/shipments")
    for url in (
        f"/api/v1/orders/{order.pk}",
        f"/api/v1/invoices/{invoice.pk}",
        f"/api/v1/invoices/{invoice.pk}/payments",
    ):
        assert client.get(url).status_code == ORDER_READ[who], url
    assert shipment_list.status_code == ORDER_READ[who]
    for url, obj in (("/api/v1/orders", order), ("/api/v1/invoices", invoice)):
        listed = client.get(url)
        if ORDER_READ[who] in (401, 403):
            assert listed.status_code == ORDER_READ[who]
        else:
            assert (obj.pk in [i["id"] for i in listed.json()["items"]]) == (ORDER_READ[who] == 200)


@pytest.mark.parametrize("who", WHO)
def test_order_update_matrix(world, who) -> None:
    order = world["order"]
    response = _json(
        _client(world["users"][who]),
        "patch",
        f"/api/v1/orders/{order.pk}",
        {"notes": "changed", "version": order.version},
    )
    assert response.status_code == ORDER_WRITE[who], response.content
    assert (Order.objects.get(pk=order.pk).notes == "changed") == (ORDER_WRITE[who] == 200)


@pytest.mark.parametrize("who", WHO)
def test_shipment_and_invoice_create_matrix(world, who) -> None:
    order = world["order"]
    line = order.lines.first()
    client = _client(world["users"][who])
    shipped = _json(
        client, "post", f"/api/v1/orders/{order.pk}/shipments", {"lines": [{"order_line_id": line.pk, "quantity": 1}]}
    )
    invoiced = _json(
        client, "post", f"/api/v1/orders/{order.pk}/invoices", {"lines": [{"order_line_id": line.pk, "quantity": 1}]}
    )
    expected = {200: 201}.get(ORDER_WRITE[who], ORDER_WRITE[who])
    assert (shipped.status_code, invoiced.status_code) == (expected, expected)
    assert Shipment.objects.count() == (1 if expected == 201 else 0)
    assert Invoice.objects.count() == (2 if expected == 201 else 1)


PAYMENT_WRITE = {**ORDER_WRITE, "teammate": 403, "owner": 403, "manager": 201, "admin": 201}


@pytest.mark.parametrize("who", WHO)
def test_payment_matrix_reps_may_not_record_payments(world, who) -> None:
    invoice = world["invoice"]
    response = _json(
        _client(world["users"][who]),
        "post",
        f"/api/v1/invoices/{invoice.pk}/payments",
        {"amount": "1.00", "currency": "EUR"},
    )
    assert response.status_code == PAYMENT_WRITE[who], response.content
    assert Payment.objects.count() == (1 if PAYMENT_WRITE[who] == 201 else 0)


@pytest.mark.parametrize("who", WHO)
def test_subscription_matrix(world, who) -> None:
    sub = world["subscription"]
    client = _client(world["users"][who])
    assert client.get(f"/api/v1/subscriptions/{sub.pk}").status_code == ORDER_READ[who]
    response = _json(client, "patch", f"/api/v1/subscriptions/{sub.pk}", {"amount": "20", "version": sub.version})
    assert response.status_code == ORDER_WRITE[who]
    assert (str(Subscription.objects.get(pk=sub.pk).amount).startswith("20")) == (ORDER_WRITE[who] == 200)
    revenue = client.get("/api/v1/recurring-revenue", {"date": "2026-06-01"})
    if ORDER_READ[who] in (401, 403):
        assert revenue.status_code == ORDER_READ[who]
    else:
        assert bool(revenue.json()["items"]) == (ORDER_READ[who] == 200)


CATALOGUE_READ = dict.fromkeys(WHO, 200) | {"anonymous": 401}
CATALOGUE_WRITE = {
    "anonymous": 401, "other_team": 403, "other_manager": 201, "teammate": 403, "manager": 201,
    "analyst": 403, "marketer": 403, "owner": 403, "admin": 201,
}  # fmt: skip


@pytest.mark.parametrize("who", WHO)
def test_catalogue_matrix(world, who) -> None:
    client = _client(world["users"][who])
    product = world["shop"]["widget"]
    assert client.get(f"/api/v1/products/{product.pk}").status_code == CATALOGUE_READ[who]
    created = _json(client, "post", "/api/v1/products", {"sku": f"NEW-{who}", "name": "New"})
    assert created.status_code == CATALOGUE_WRITE[who], created.content
    assert Product.objects.filter(sku=f"NEW-{who}").exists() == (CATALOGUE_WRITE[who] == 201)
    book = _json(client, "post", "/api/v1/price-books", {"name": f"B-{who}", "currency": "EUR"})
    assert book.status_code == CATALOGUE_WRITE[who]
    assert PriceBook.objects.filter(name=f"B-{who}").exists() == (CATALOGUE_WRITE[who] == 201)
    if who != "marketer":  # marketers see products, not prices
        assert client.get("/api/v1/price-books").status_code == CATALOGUE_READ[who]
    rate = _json(client, "post", "/api/v1/exchange-rates", {"currency": "GBP", "date": "2026-01-01", "rate": "1.1"})
    assert rate.status_code == {201: 200}.get(CATALOGUE_WRITE[who], CATALOGUE_WRITE[who])


def test_a_marketer_may_not_see_prices(world) -> None:
    client = _client(world["users"]["marketer"])
    assert client.get("/api/v1/price-books").status_code == 403
    assert client.get("/api/v1/exchange-rates").status_code == 403
