"""Sending a quote from its page mails it over real SMTP (aiosmtpd on loopback): the PDF attached,
the signed link to the customer's page in the body; the link opens that page."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from django.test import Client
from tests.conftest import client_for

from rapport.commerce import services_catalogue as catalogue
from rapport.parties.services import contact_create
from rapport.sales import services_quotes
from rapport.sales.models_quotes import Quote
from rapport.sales.services import opportunity_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def quote(rep, customer, stages, admin_user):
    widget = catalogue.product_create(actor=admin_user, sku="W-1", name="Widget")
    eur = catalogue.price_book_create(actor=admin_user, name="List EUR", currency="EUR")
    catalogue.price_book_entry_set(actor=admin_user, price_book=eur, product=widget, unit_price="10.00")
    buyer = contact_create(actor=rep, data={"first_name": "Ann", "last_name": "Buyer",
                                            "emails": ["ann@prospect.example"], "account_id": customer.pk})
    deal = opportunity_create(actor=rep, account=customer, name="Deal", stage=stages["solution"], contact=buyer)
    return services_quotes.quote_create(actor=rep, opportunity=deal, price_book=eur,
                                        lines=[services_quotes.QuoteLineSpec(product=widget, quantity=2)])


def test_send_mails_pdf_and_link(rep, quote, smtp, settings, django_capture_on_commit_callbacks) -> None:
    settings.RAPPORT_BASE_URL = "http://testserver"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(rep).post(f"/quotes/{quote.pk}/send/", {
            "to": "ann@prospect.example", "message": "As discussed on the phone."})
    assert response.status_code == 302 and response["Location"] == f"/quotes/{quote.pk}/"
    assert len(smtp.messages) == 1
    mail = email.message_from_string(smtp.messages[0].content, policy=policy.default)
    assert mail["To"] == "ann@prospect.example" and mail["Subject"] == f"Quote {quote}"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"http://testserver/q/([^/\s]+)/", body)
    assert found and "As discussed on the phone." in body
    link = found.group(0)
    assert services_quotes.quote_from_token(found.group(1)).pk == quote.pk  # signed for this quote
    attachments = list(mail.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        (f"{quote.number}-v1.pdf", "application/pdf")]
    assert attachments[0].get_content().startswith(b"%PDF")
    stored = Quote.objects.get(pk=quote.pk)
    assert stored.status == "sent" and stored.sent_to == "ann@prospect.example" and stored.sent_at is not None
    page = Client().get(link.removeprefix("http://testserver"))
    assert page.status_code == 200 and b"Accept quote" in page.content


def test_refused_send_mails_nothing(rep, other_rep, quote, smtp, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(other_rep).post(f"/quotes/{quote.pk}/send/", {"to": "x@y.example"}).status_code == 404
        assert client_for(None).post(f"/quotes/{quote.pk}/send/", {"to": "x@y.example"}).status_code == 302
        assert client_for(rep).post(f"/quotes/{quote.pk}/send/", {"to": "bad address"}).status_code == 200
    assert smtp.messages == [] and Quote.objects.get(pk=quote.pk).status == "draft"
