"""Quotes: priced from the price book, currency mismatch and negative quantity refused, send,
accept via the signed link into a sales order, deal moved; fulfilment/invoicing move it on."""

from __future__ import annotations

import json

import pytest
from tests.conftest import client_for

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import invoice_create, shipment_create
from rapport.sales.models import Opportunity
from rapport.sales.models_quotes import Quote
from rapport.sales.services import opportunity_create


@pytest.fixture
def shop(admin_user):
    catalogue.tax_rate_set(actor=admin_user, category="standard", rate="21")
    widget = catalogue.product_create(actor=admin_user, sku="W-1", name="Widget", tax_category="standard")
    eur = catalogue.price_book_create(actor=admin_user, name="List EUR", currency="EUR")
    usd = catalogue.price_book_create(actor=admin_user, name="List USD", currency="USD")
    catalogue.price_book_entry_set(actor=admin_user, price_book=eur, product=widget, unit_price="10.00")
    return {"widget": widget, "eur": eur, "usd": usd}


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_quote_to_order_and_deal_follows(rep, customer, stages, shop, django_capture_on_commit_callbacks):
    opp = opportunity_create(actor=rep, account=customer, name="Deal", amount="100", stage=stages["solution"])
    client = client_for(rep)
    made = _post(client, f"/api/v1/opportunities/{opp.pk}/quotes",
                 {"price_book_id": shop["eur"].pk, "lines": [{"product_id": shop["widget"].pk, "quantity": "3"}]})
    assert made.status_code == 201, made.content
    quote = made.json()
    assert quote["total"] == "36.30" and quote["status"] == "draft"
    with django_capture_on_commit_callbacks(execute=True):
        sent = _post(client, f"/api/v1/quotes/{quote['id']}/send", {"to": "buyer@example.com"})
    assert sent.status_code == 200 and sent.json()["sent_at"]
    token = sent.json()["acceptance_url"].rstrip("/").rsplit("/", 1)[1]
    assert client_for(None).get(f"/api/v1/public/quotes/{token}x").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        accepted = _post(client_for(None), f"/api/v1/public/quotes/{token}/accept", {"name": "Ann Buyer"})
    assert accepted.status_code == 200, accepted.content
    stored = Quote.objects.get(pk=quote["id"])
    assert stored.status == "accepted" and stored.decided_ip == "127.0.0.1" and stored.order.source_reference == (
        f"quote:{stored.pk}")
    assert Opportunity.objects.get(pk=opp.pk).stage == stages["ordered"]
    again = _post(client_for(None), f"/api/v1/public/quotes/{token}/accept", {"name": "Ann Buyer"})
    assert again.status_code == 409
    order = stored.order
    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(actor=rep, order=order, lines=[(order.lines.get().pk, "3")])
    assert Opportunity.objects.get(pk=opp.pk).stage == stages["fulfilled"]
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(actor=rep, order=order)
    assert Opportunity.objects.get(pk=opp.pk).stage == stages["billed"]


def test_bad_quotes_refused(rep, other_rep, customer, stages, shop):
    opp = opportunity_create(actor=rep, account=customer, name="Deal", stage=stages["solution"])
    url = f"/api/v1/opportunities/{opp.pk}/quotes"
    client = client_for(rep)
    mismatch = _post(client, url, {"currency": "EUR", "price_book_id": shop["usd"].pk,
                                   "lines": [{"product_id": shop["widget"].pk, "quantity": "1"}]})
    assert mismatch.status_code in (400, 422) and "USD" in mismatch.json()["detail"]
    negative = _post(client, url, {"price_book_id": shop["eur"].pk,
                                   "lines": [{"product_id": shop["widget"].pk, "quantity": "-1"}]})
    assert negative.status_code == 422
    assert _post(client_for(other_rep), url, {"lines": [{"product_id": shop["widget"].pk}]}).status_code == 404
    assert _post(client_for(None), url, {"lines": [{"product_id": shop["widget"].pk}]}).status_code == 401
    assert Quote.objects.count() == 0
