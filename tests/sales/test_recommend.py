"""Co-purchase suggestions on an opportunity: a planted association is found, noise is not."""

from __future__ import annotations

import datetime as dt

from tests.conftest import client_for

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.services import LineSpec, order_create_from_lines
from rapport.parties.services import account_create
from rapport.sales.models import OpportunityLine
from rapport.sales.recommend import suggestions_for
from rapport.sales.services import opportunity_create


def test_buyers_of_the_deals_product_also_buy_the_planted_one(admin_user, rep, other_rep):
    catalogue.tax_rate_set(actor=admin_user, category="standard", rate="20")
    book = catalogue.price_book_create(actor=admin_user, name="EUR", currency="EUR")
    products = {}
    for sku in ("WIDGET", "GADGET", "SETUP", "CABLE", "WIDGET-PRO"):
        products[sku] = catalogue.product_create(actor=admin_user, sku=sku, name=sku.title(), tax_category="standard")
        catalogue.price_book_entry_set(actor=admin_user, price_book=book, product=products[sku], unit_price="10")
    day = dt.date(2026, 1, 5)

    def buy(account, *skus, on=day):
        order_create_from_lines(actor=rep, account=account, currency="EUR", price_book=book, order_date=on,
                                lines=[LineSpec(product=products[s], quantity=1) for s in skus])

    # 6 widget buyers: 5 also take the gadget, 3 later move up to the pro widget; 6 others buy set-up and cables.
    for i in range(6):
        account = account_create(actor=rep, data={"name": f"Widget buyer {i}", "currency": "EUR"})
        buy(account, "WIDGET", *(["GADGET"] if i < 5 else []))
        if i < 3:
            buy(account, "WIDGET-PRO", on=day + dt.timedelta(days=40))
        if i == 1:  # a repeat purchase of the up-sell: still one customer who moved up
            buy(account, "WIDGET-PRO", on=day + dt.timedelta(days=80))
        if i == 0:
            buy(account, "CABLE")
    for i in range(6):
        account = account_create(actor=rep, data={"name": f"Other {i}", "currency": "EUR"})
        buy(account, "SETUP", "CABLE", *(["GADGET"] if i == 0 else []))
    prospect = account_create(actor=rep, data={"name": "Prospect", "currency": "EUR"})
    deal = opportunity_create(actor=rep, account=prospect, name="Widgets for Prospect")
    OpportunityLine.objects.create(opportunity=deal, product=products["WIDGET"], unit_price="10")

    found = suggestions_for(opportunity=deal)
    assert found.seed_buyers == 6
    # ranked by lift: the pro widget (3 of 6 vs 3 of 12 customers: 2.0) before the gadget (5/6 vs 6/12: 1.67)
    assert [s.sku for s in found.cross_sell] == ["WIDGET-PRO", "GADGET"]
    top = found.cross_sell[1]
    assert top.buyers == 5
    assert abs(top.confidence - 5 / 6) < 1e-9 and abs(top.lift - (5 / 6) / (6 / 12)) < 1e-9
    assert "SETUP" not in {s.sku for s in found.cross_sell}  # no widget buyer bought it
    assert "CABLE" not in {s.sku for s in found.cross_sell}  # one buyer only: below the support floor
    assert [s.sku for s in found.up_sell] == ["WIDGET-PRO"]
    assert found.up_sell[0].buyers == 3

    url = f"/api/v1/opportunities/{deal.pk}/suggestions"
    assert client_for(None).get(url).status_code == 401
    assert client_for(other_rep).get(url).status_code == 404
    body = client_for(rep).get(url).json()
    assert [s["sku"] for s in body["cross_sell"]] == ["WIDGET-PRO", "GADGET"]
