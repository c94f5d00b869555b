"""The customer's side in a real browser: the quote email (real SMTP) carries a link; opening it
shows the quote, the customer types their name, accepts, and sees the order number."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from tests.browser.conftest import browser, page  # noqa: F401 - the browser fixtures live there

from rapport.commerce import services_catalogue as catalogue
from rapport.parties.services import account_create, contact_create
from rapport.sales import services_quotes
from rapport.sales.models_quotes import Quote
from rapport.sales.services import opportunity_create

pytestmark = pytest.mark.browser


def test_customer_accepts_from_the_emailed_link(live_server, transactional_db, page, rep, admin_user,  # noqa: F811
                                                smtp, settings) -> None:
    from rapport.sales.models import Pipeline, Stage

    if not Pipeline.objects.exists():  # the migration's default pipeline is gone with the flush
        pipeline = Pipeline.objects.create(name="Sales", is_default=True)
        Stage.objects.create(pipeline=pipeline, name="Quote sent", position=1, probability=70)
        Stage.objects.create(pipeline=pipeline, name="Sales order placed", position=2, probability=100, kind="won")
    settings.RAPPORT_BASE_URL = live_server.url
    widget = catalogue.product_create(actor=admin_user, sku="W-1", name="Widget")
    book = catalogue.price_book_create(actor=admin_user, name="List EUR", currency="EUR")
    catalogue.price_book_entry_set(actor=admin_user, price_book=book, product=widget, unit_price="25.00")
    customer = account_create(actor=rep, data={"name": "Radium <SA>", "currency": "EUR"})
    buyer = contact_create(actor=rep, data={"first_name": "Marie", "last_name": "Curie",
                                            "emails": ["marie@radium.example"], "account_id": customer.pk})
    deal = opportunity_create(actor=rep, account=customer, name="Radium deal", contact=buyer)
    quote = services_quotes.quote_create(actor=rep, opportunity=deal, price_book=book,
                                         lines=[services_quotes.QuoteLineSpec(product=widget, quantity=4)])
    services_quotes.quote_send(actor=rep, quote=quote, message="Here is our offer.")

    mail = email.message_from_string(smtp.messages[-1].content, policy=policy.default)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"(http://\S+/q/\S+/)", text).group(1)
    page.goto(link)
    assert "Radium <SA>" in page.inner_text("h1 + p, .subtitle")
    assert "100.00 EUR" in page.inner_text("#quote-total")
    page.fill("#signer", "Marie Curie")
    page.click("text=Accept quote")
    page.locator("#order-number").wait_for()
    stored = Quote.objects.get(pk=quote.pk)
    assert stored.status == "accepted" and stored.decided_by_name == "Marie Curie"
    assert page.inner_text("#order-number") == stored.order.number
    assert page.locator("text=Accept quote").count() == 0
