"""The commerce API end to end: happy paths, and problem+json for bad input with nothing written."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from rapport.commerce.models import Invoice, Order, Payment, Shipment

JSON = "application/json"
PROBLEM = "application/problem+json"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type=JSON)


@pytest.fixture
def api(rep):
    return _client(rep)


def _order_body(shop, account, **extra):
    body = {
        "account_id": account.pk,
        "currency": "EUR",
        "order_date": "2026-06-15",
        "source_reference": "quote:7",
        "lines": [
            {"product_id": shop["widget"].pk, "quantity": "10", "discount_kind": "percent", "discount_value": "10"},
            {"product_id": shop["setup"].pk, "quantity": 2, "unit_price": "75.00"},
        ],
    }
    body.update(extra)
    return body


def test_order_to_cash_through_the_api(api, shop, account, manager) -> None:
    created = _post(api, "/api/v1/orders", _order_body(shop, account))
    assert created.status_code == 201, created.content
    order = created.json()
    # widget 100 − 10 % = 90.00; set-up 150.00; tax 21 % of 240 = 50.40
    assert (order["subtotal"], order["discount_total"], order["tax_total"], order["total"]) == (
        "250.00",
        "10.00",
        "50.40",
        "290.40",
    )
    assert order["source_reference"] == "quote:7" and created["ETag"] == f'"{order["id"]}-1"'
    widget_line = order["lines"][0]["id"]

    shipped = _post(
        api,
        f"/api/v1/orders/{order['id']}/shipments",
        {"lines": [{"order_line_id": widget_line, "quantity": "4"}], "carrier": "DHL", "tracking_number": "JD014600"},
    )
    assert shipped.status_code == 201, shipped.content
    assert api.get(f"/api/v1/orders/{order['id']}").json()["fulfilment_status"] == "partial"

    invoiced = _post(
        api,
        f"/api/v1/orders/{order['id']}/invoices",
        {"lines": [{"order_line_id": widget_line, "quantity": "5"}], "issue_date": "2026-06-16"},
    )
    assert invoiced.status_code == 201, invoiced.content
    invoice = invoiced.json()
    assert (invoice["number"], invoice["total"], invoice["due_date"]) == ("INV-2026-00001", "54.45", "2026-07-16")

    paid = _post(
        _client(manager),
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"amount": "54.45", "currency": "EUR", "paid_on": "2026-06-20"},
    )
    assert paid.status_code == 201, paid.content
    listed = api.get("/api/v1/invoices", {"order_id": order["id"]}).json()["items"]
    assert [(i["payment_status"], i["overdue"]) for i in listed] == [("paid", False)]
    line = api.get(f"/api/v1/orders/{order['id']}").json()["lines"][0]
    assert (line["shipped"], line["invoiced"]) == ("4.000", "5.000")


def test_overdue_filter(api, make_order, rep) -> None:
    import datetime as dt

    from rapport.commerce.services import invoice_create

    old = invoice_create(actor=rep, order=make_order(), issue_date=dt.date(2020, 1, 1))
    fresh = invoice_create(actor=rep, order=make_order(), issue_date=dt.date(2999, 1, 1))
    overdue = api.get("/api/v1/invoices", {"overdue": "true"}).json()["items"]
    assert [i["id"] for i in overdue] == [old.pk]
    assert [i["id"] for i in api.get("/api/v1/invoices", {"overdue": "false"}).json()["items"]] == [fresh.pk]


def _assert_problem(response, status: int, type_: str, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == type_
    if field:
        assert field in body["errors"], body


@pytest.mark.parametrize(
    ("change", "status", "type_", "field"),
    [
        ({"currency": "EUR", "price_book_id": "usd"}, 422, "/problems/currency-mismatch", "price_book_id"),
        ({"lines": [{"product_id": "widget", "quantity": "-3"}]}, 422, "/problems/validation", "lines.0.quantity"),
        ({"lines": [{"product_id": "widget", "quantity": 1.5}]}, 422, "/problems/validation", None),
        ({"lines": [{"product_id": 999999, "quantity": 1}]}, 422, "/problems/validation", "lines.0.product_id"),
        ({"lines": [{"product_id": "gadget", "quantity": 1}], "currency": "USD"}, 422, "/problems/no-price", None),
        ({"currency": "EURO"}, 422, "/problems/validation", "currency"),
        ({"currency": "XYZ"}, 422, "/problems/validation", "currency"),
        ({"lines": []}, 422, "/problems/validation", "lines"),
        ({"surprise": 1}, 422, "/problems/validation", "surprise"),
    ],
)
def test_bad_orders_are_problems_and_write_nothing(api, shop, account, change, status, type_, field) -> None:
    body = _order_body(shop, account)
    for key, value in change.items():
        if key == "price_book_id":
            value = shop[value].pk
        if key == "lines":
            value = [
                {
                    **ln,
                    "product_id": shop[ln["product_id"]].pk if isinstance(ln["product_id"], str) else ln["product_id"],
                }
                for ln in value
            ]
        body[key] = value
    _assert_problem(_post(api, "/api/v1/orders", body), status, type_, field)
    assert Order.objects.count() == 0


def test_over_shipping_over_invoicing_and_over_paying_are_problems(api, make_order, manager) -> None:
    order = make_order()
    line = order.lines.order_by("position").first()
    _assert_problem(
        _post(api, f"/api/v1/orders/{order.pk}/shipments", {"lines": [{"order_line_id": line.pk, "quantity": "10.5"}]}),
        422,
        "/problems/over-shipment",
        "lines.0.quantity",
    )
    _assert_problem(
        _post(api, f"/api/v1/orders/{order.pk}/invoices", {"lines": [{"order_line_id": line.pk, "quantity": 11}]}),
        422,
        "/problems/over-invoicing",
        "lines.0.quantity",
    )
    assert (Shipment.objects.count(), Invoice.objects.count()) == (0, 0)
    invoice = _post(api, f"/api/v1/orders/{order.pk}/invoices", {}).json()
    _assert_problem(
        _post(_client(manager), f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "1000", "currency": "EUR"}),
        422,
        "/problems/over-payment",
        "amount",
    )
    _assert_problem(
        _post(_client(manager), f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "1", "currency": "USD"}),
        422,
        "/problems/currency-mismatch",
        "currency",
    )
    assert Payment.objects.count() == 0


def test_stale_version_and_missing_version(api, make_order) -> None:
    order = make_order()
    url = f"/api/v1/orders/{order.pk}"
    assert api.patch(url, data=json.dumps({"notes": "a", "version": 1}), content_type=JSON).status_code == 200
    stale = api.patch(url, data=json.dumps({"notes": "b", "version": 1}), content_type=JSON)
    _assert_problem(stale, 409, "/problems/stale-version")
    assert stale.json()["current_version"] == 2
    _assert_problem(
        api.patch(url, data=json.dumps({"notes": "c"}), content_type=JSON), 428, "/problems/precondition-required"
    )
    assert api.patch(url, data=json.dumps({"notes": "d"}), content_type=JSON, HTTP_IF_MATCH='"0-0"').status_code == 412
    order.refresh_from_db()
    assert order.notes == "a"


def test_price_lookup_and_conversion_endpoints(api, shop, account, admin_user, settings) -> None:
    settings.RAPPORT_COMPANY_CURRENCY = "EUR"
    price = api.get("/api/v1/prices", {"product_id": shop["widget"].pk, "currency": "USD", "account_id": account.pk})
    assert price.status_code == 200 and price.json()["unit_price"] == "11.0000"
    _assert_problem(
        api.get(
            "/api/v1/prices", {"product_id": shop["widget"].pk, "currency": "EUR", "price_book_id": shop["usd"].pk}
        ),
        422,
        "/problems/currency-mismatch",
    )
    _assert_problem(
        api.get("/api/v1/exchange-rates/convert", {"amount": "10", "currency": "USD", "date": "2026-01-01"}),
        422,
        "/problems/no-exchange-rate",
    )
    admin = _client(admin_user)
    assert (
        _post(admin, "/api/v1/exchange-rates", {"currency": "USD", "date": "2026-01-01", "rate": "0.9"}).status_code
        == 200
    )
    converted = api.get("/api/v1/exchange-rates/convert", {"amount": "10", "currency": "USD", "date": "2026-03-01"})
    assert converted.json()["converted"] == "9.00"


def test_subscriptions_and_recurring_revenue(api, shop, account, settings) -> None:
    settings.RAPPORT_COMPANY_CURRENCY = "EUR"
    created = _post(
        api,
        "/api/v1/subscriptions",
        {
            "account_id": account.pk,
            "product_id": shop["plan"].pk,
            "amount": "120",
            "currency": "EUR",
            "billing_period": "quarterly",
            "start_date": "2026-01-01",
            "renewal_date": "2027-01-01",
        },
    )
    assert created.status_code == 201, created.content
    revenue = api.get("/api/v1/recurring-revenue", {"date": "2026-06-01"}).json()
    assert [(r["account_id"], r["mrr"], r["arr"]) for r in revenue["items"]] == [(account.pk, "40.00", "480.00")]
    bad = api.patch(
        f"/api/v1/subscriptions/{created.json()['id']}",
        data=json.dumps({"status": "paused", "version": 1}),
        content_type=JSON,
    )
    _assert_problem(bad, 422, "/problems/validation", "status")
