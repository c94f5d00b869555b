"""The quote pages: list, detail, builder, revise, print, PDF, send form, and the customer's public
page; as anonymous, other team's rep, owner rep and manager. User content is escaped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from tests.conftest import client_for

from rapport.commerce import services_catalogue as catalogue
from rapport.commerce.models import Order
from rapport.parties.services import contact_create
from rapport.sales import services_quotes
from rapport.sales.models import Opportunity
from rapport.sales.models_quotes import Quote
from rapport.sales.services import opportunity_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(admin_user):
    catalogue.tax_rate_set(actor=admin_user, category="standard", rate="21")
    widget = catalogue.product_create(actor=admin_user, sku="W-1", name="Widget", tax_category="standard")
    eur = catalogue.price_book_create(actor=admin_user, name="List EUR", currency="EUR")
    usd = catalogue.price_book_create(actor=admin_user, name="List USD", currency="USD")
    catalogue.price_book_entry_set(actor=admin_user, price_book=eur, product=widget, unit_price="10.00")
    return {"widget": widget, "eur": eur, "usd": usd}


@pytest.fixture
def deal(rep, customer, stages):
    buyer = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Buyer",
                                            "emails": ["ann@prospect.example"], "account_id": customer.pk})
    return opportunity_create(actor=rep, account=customer, name="Big deal", amount="100", stage=stages["solution"],
                              contact=buyer)


@pytest.fixture
def quote(rep, deal, shop):
    return services_quotes.quote_create(
        actor=rep, opportunity=deal, price_book=shop["eur"],
        lines=[services_quotes.QuoteLineSpec(product=shop["widget"], quantity=3,
                                             description="<script>alert(1)</script> widgets")])


def _sent(rep, quote):
    return services_quotes.quote_send(actor=rep, quote=quote, to="ann@prospect.example")


def _token(quote):
    return services_quotes.acceptance_token(quote)


def _builder_post(shop, **lines):
    data = {"lines-TOTAL_FORMS": "3", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "200", "price_book": str(shop["eur"].pk), "currency": "", "valid_until": "",
            "tax_country": "", "notes": "Thanks", "version": ""}
    data.update({f"lines-{k}": str(v) for k, v in lines.items()})
    return data


# --- permission matrix ---------------------------------------------------------------------


def test_anonymous_is_sent_to_login(quote, deal) -> None:
    for url in ("/quotes/", f"/quotes/{quote.pk}/", f"/quotes/{quote.pk}/print/", f"/quotes/{quote.pk}/pdf/",
                f"/quotes/{quote.pk}/send/", f"/quotes/{quote.pk}/revise/", f"/opportunities/{deal.pk}/quotes/new/"):
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert client_for(None).post(f"/quotes/{quote.pk}/send/", {"to": "x@y.example"}).status_code == 302
    assert Quote.objects.get(pk=quote.pk).status == "draft"


def test_other_teams_rep_sees_nothing(quote, deal, other_rep, shop) -> None:
    client = client_for(other_rep)
    listing = client.get("/quotes/")
    assert listing.status_code == 200 and quote.number.encode() not in listing.content
    for url in (f"/quotes/{quote.pk}/", f"/quotes/{quote.pk}/print/", f"/quotes/{quote.pk}/pdf/",
                f"/quotes/{quote.pk}/send/", f"/quotes/{quote.pk}/revise/", f"/opportunities/{deal.pk}/quotes/new/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/quotes/{quote.pk}/send/", {"to": "x@y.example"}).status_code == 404
    assert client.post(f"/opportunities/{deal.pk}/quotes/new/",
                       _builder_post(shop, **{"0-product": shop["widget"].pk, "0-quantity": 1})).status_code == 404
    assert Quote.objects.count() == 1 and Quote.objects.get().status == "draft"


def test_owner_teammate_and_manager_see_the_quote(quote, rep, teammate, manager, analyst) -> None:
    for user in (rep, teammate, manager):
        client = client_for(user)
        assert quote.number.encode() in client.get("/quotes/").content, user
        page = client.get(f"/quotes/{quote.pk}/")
        assert page.status_code == 200 and b"36.30 EUR" in page.content, user
    # an analyst may read quotes but not change them: no Revise/Send buttons, and the send page is refused
    page = client_for(analyst).get(f"/quotes/{quote.pk}/")
    assert page.status_code == 200 and f"/quotes/{quote.pk}/send/".encode() not in page.content
    assert client_for(analyst).get(f"/quotes/{quote.pk}/send/").status_code == 403


def test_list_filters_and_partial(quote, rep, deal, shop) -> None:
    _sent(rep, quote)
    client = client_for(rep)
    assert quote.number.encode() in client.get("/quotes/?status=sent").content
    assert quote.number.encode() not in client.get("/quotes/?status=accepted").content
    assert client.get("/quotes/?status=bogus").status_code == 200
    assert quote.number.encode() in client.get("/quotes/?q=Prospect").content
    partial = client.get("/quotes/?status=sent", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert b"<html" not in partial.content and quote.number.encode() in partial.content


def test_detail_escapes_and_shows_lines_totals_versions(quote, rep, shop) -> None:
    page = client_for(rep).get(f"/quotes/{quote.pk}/")
    body = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; widgets" in body and "<script>alert(1)" not in body
    assert "Subtotal" in body and "Tax" in body and "Revise" in body and "Download PDF" in body
    assert f"/quotes/{quote.pk}/print/" in body
    new = services_quotes.quote_revise(actor=rep, quote=quote, expected_version=None,
                                       lines=[services_quotes.QuoteLineSpec(product=shop["widget"], quantity=5)])
    page = client_for(rep).get(f"/quotes/{new.pk}/").content.decode()
    assert f'href="/quotes/{quote.pk}/">v1</a>' in page and "<strong>v2</strong>" in page
    old = client_for(rep).get(f"/quotes/{quote.pk}/").content.decode()
    assert "Superseded" in old and f"/quotes/{quote.pk}/revise/" not in old


def test_print_and_pdf(quote, rep) -> None:
    printed = client_for(rep).get(f"/quotes/{quote.pk}/print/")
    assert printed.status_code == 200 and b"@media print" in printed.content and b"&lt;script&gt;" in printed.content
    pdf = client_for(rep).get(f"/quotes/{quote.pk}/pdf/?download=1")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    disposition = pdf["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"{quote.number}-v1.pdf" in disposition


# --- the builder ---------------------------------------------------------------------------


def test_builder_makes_a_priced_draft(rep, deal, shop) -> None:
    client = client_for(rep)
    form = client.get(f"/opportunities/{deal.pk}/quotes/new/")
    assert form.status_code == 200 and b"Widget" in form.content and b"List EUR" in form.content
    response = client.post(f"/opportunities/{deal.pk}/quotes/new/", _builder_post(
        shop, **{"0-product": shop["widget"].pk, "0-quantity": "2", "1-product": shop["widget"].pk,
                 "1-quantity": "1", "1-discount_kind": "percent", "1-discount_value": "10"}))
    quote = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/quotes/{quote.pk}/"
    assert (quote.currency, quote.status, quote.notes) == ("EUR", "draft", "Thanks")
    assert [str(ln.net) for ln in quote.lines.all()] == ["20.0000", "9.0000"] and str(quote.total) == "35.0900"


def test_builder_shows_errors_inline_and_writes_nothing(rep, deal, shop) -> None:
    client = client_for(rep)
    url = f"/opportunities/{deal.pk}/quotes/new/"
    negative = client.post(url, _builder_post(shop, **{"0-product": shop["widget"].pk, "0-quantity": "-1"}))
    assert negative.status_code == 200
    assert b'data-error-for="lines-0-quantity"' in negative.content
    other_currency = client.post(url, {**_builder_post(shop, **{"0-product": shop["widget"].pk, "0-quantity": "1"}),
                                       "price_book": str(shop["usd"].pk), "currency": "EUR"})
    assert b'data-error-for="price_book"' in other_currency.content
    assert b"Choose a price book in EUR" in other_currency.content
    empty = client.post(url, _builder_post(shop))
    assert b"Add at least one line" in empty.content
    garbage = client.post(url, _builder_post(shop, **{"0-product": "999999", "0-quantity": "x"}))
    assert garbage.status_code == 200 and b'data-error-for="lines-0-product"' in garbage.content
    assert Quote.objects.count() == 0


def test_revise_prefills_and_makes_revision_two(rep, quote, shop) -> None:
    client = client_for(rep)
    form = client.get(f"/quotes/{quote.pk}/revise/")
    assert form.status_code == 200 and b"Revision 2 of" in form.content
    data = _builder_post(shop, **{"0-product": shop["widget"].pk, "0-quantity": "7"})
    data["version"] = str(quote.version)
    response = client.post(f"/quotes/{quote.pk}/revise/", data)
    new = Quote.objects.get(revision=2)
    assert response.status_code == 302 and new.number == quote.number and new.lines.get().quantity == 7
    assert Quote.objects.get(pk=quote.pk).status == "superseded"
    # the old revision cannot be revised again
    assert client.post(f"/quotes/{quote.pk}/revise/", data).status_code == 302
    assert Quote.objects.count() == 2


def test_stale_revision_is_refused(rep, quote, shop) -> None:
    data = _builder_post(shop, **{"0-product": shop["widget"].pk, "0-quantity": "7"})
    data["version"] = str(quote.version - 1 if quote.version > 1 else quote.version + 5)
    response = client_for(rep).post(f"/quotes/{quote.pk}/revise/", data)
    assert response.status_code == 200 and b"was changed since version" in response.content
    assert Quote.objects.count() == 1 and Quote.objects.get().status == "draft"


def test_send_form_defaults_to_the_contact_and_validates(rep, quote) -> None:
    client = client_for(rep)
    page = client.get(f"/quotes/{quote.pk}/send/")
    assert page.status_code == 200 and b'value="ann@prospect.example"' in page.content
    bad = client.post(f"/quotes/{quote.pk}/send/", {"to": "not-an-address"})
    assert bad.status_code == 200 and b'data-error-for="to"' in bad.content
    assert Quote.objects.get(pk=quote.pk).status == "draft"


# --- the customer's page -------------------------------------------------------------------


def test_public_page_accept_shows_the_order(rep, quote, stages) -> None:
    _sent(rep, quote)
    client = Client(enforce_csrf_checks=True)
    url = f"/q/{_token(quote)}/"
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "Prospect Ltd" in body and "Accept quote" in body and "Decline" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert "Big deal" not in body and rep.username not in body  # nothing internal shown to the customer
    assert client.post(url, {"decision": "accept", "name": "Ann Buyer"}).status_code == 403  # no CSRF token
    assert Quote.objects.get(pk=quote.pk).status == "sent"
    csrf = client.cookies["csrftoken"].value
    done = client.post(url, {"decision": "accept", "name": "  Ann   Buyer ", "csrfmiddlewaretoken": csrf})
    assert done.status_code == 302 and done["Location"] == url
    stored = Quote.objects.get(pk=quote.pk)
    assert stored.status == "accepted" and stored.decided_by_name == "Ann Buyer" and stored.order is not None
    after = client.get(url).content.decode()
    assert f'<span id="order-number">{stored.order.number}</span>' in after and "Accepted by Ann Buyer" in after
    assert "Accept quote" not in after
    assert Opportunity.objects.get(pk=quote.opportunity_id).stage == stages["ordered"]


def test_public_page_needs_a_name_and_declines(rep, quote) -> None:
    _sent(rep, quote)
    client = Client()
    url = f"/q/{_token(quote)}/"
    nameless = client.post(url, {"decision": "accept", "name": "   "})
    assert nameless.status_code == 422 and b"Type your name" in nameless.content
    assert Quote.objects.get(pk=quote.pk).status == "sent" and Order.objects.count() == 0
    declined = client.post(url, {"decision": "decline", "name": "Ann"})
    assert declined.status_code == 302
    page = client.get(url).content.decode()
    assert "Declined by Ann" in page and "Accept quote" not in page
    again = client.post(url, {"decision": "accept", "name": "Ann"})
    assert again.status_code == 422 and Order.objects.count() == 0


def test_public_page_expired_quote_has_no_buttons(rep, quote) -> None:
    _sent(rep, quote)
    past = timezone.localdate() - dt.timedelta(days=2)
    Quote.objects.filter(pk=quote.pk).update(quote_date=past - dt.timedelta(days=30), valid_until=past)
    url = f"/q/{_token(quote)}/"
    page = Client().get(url).content.decode()
    assert f"This quote expired on {past.isoformat()}" in page and "Accept quote" not in page
    refused = Client().post(url, {"decision": "accept", "name": "Ann"})
    assert refused.status_code == 422 and Order.objects.count() == 0
    assert Quote.objects.get(pk=quote.pk).status == "expired"


def test_public_page_bad_tokens_and_drafts_are_404(rep, quote, shop) -> None:
    token = _token(quote)
    assert Client().get(f"/q/{token}/").status_code == 404  # a draft was never sent
    _sent(rep, quote)
    for bad in (token[:-2] + ("xx" if not token.endswith("xx") else "yy"), "nonsense", "a" * 600):
        response = Client().get(f"/q/{bad}/")
        assert response.status_code == 404 and b"Prospect" not in response.content
        assert Client().post(f"/q/{bad}/", {"decision": "accept", "name": "x"}).status_code == 404
    assert Quote.objects.get(pk=quote.pk).status == "sent"
    # a superseded revision's link says so and offers no buttons
    services_quotes.quote_revise(actor=rep, quote=quote, expected_version=None,
                                 lines=[services_quotes.QuoteLineSpec(product=shop["widget"], quantity=1)])
    page = Client().get(f"/q/{token}/").content.decode()
    assert "replaced by a newer revision" in page and "Accept quote" not in page


def test_public_page_is_rate_limited(rep, quote, settings) -> None:
    from django.core.cache import cache

    from rapport.sales import views_quotes

    _sent(rep, quote)
    cache.clear()
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(views_quotes.PUBLIC_RATE_LIMIT):
        assert client.get("/q/guess/").status_code == 404
    limited = client.get(f"/q/{_token(quote)}/")
    assert limited.status_code == 429 and limited["Retry-After"] and b"Prospect" not in limited.content
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/q/{_token(quote)}/").status_code == 200
    cache.clear()


def test_emailed_link_points_at_the_public_page(quote, settings) -> None:
    settings.RAPPORT_BASE_URL = "https://crm.example"
    assert services_quotes.acceptance_url(quote) == f"https://crm.example/q/{_token(quote)}/"
