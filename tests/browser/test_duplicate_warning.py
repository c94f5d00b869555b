"""The create-time duplicate warning in a real browser: it appears while typing, and saving asks first."""

from __future__ import annotations

import re

import pytest
from tests.browser.conftest import login
from tests.conftest import PASSWORD

from rapport.parties.models import Contact, DuplicatePair
from rapport.parties.services import contact_create

pytestmark = pytest.mark.browser


def test_typing_a_known_person_warns_and_saving_needs_confirmation(live_server, transactional_db, page, rep):
    ada = contact_create(actor=rep, data={"first_name": "Ada", "last_name": "Lovelace",
                                          "emails": ["ada@analytical.test"]})
    base = live_server.url
    login(page, base, rep.username, PASSWORD)
    page.goto(f"{base}/contacts/new/")
    page.fill("input[name=first_name]", "Ada")
    page.fill("input[name=last_name]", "Lovelcae")
    page.fill("input[name=email_0]", "ada@analytical.test")
    page.locator("input[name=email_0]").dispatch_event("change")
    # the warning arrives with the inline validation, with a link to the existing contact
    warning = page.locator("[data-duplicates]")
    warning.wait_for()
    assert "probably exists already" in warning.inner_text()
    assert warning.locator(f"a[href='/contacts/{ada.pk}/']").count() == 1
    # The warning may first come from an earlier field's validation: wait for the one the email made.
    warning.filter(has_text="Email: same").wait_for()
    assert "Email: same" in warning.inner_text()
    # saving stops once and offers "Create anyway"; nothing is written yet
    page.click("form#party-form .formbar button[type=submit]")
    page.locator("button[name=_confirm_duplicate]").wait_for()
    assert Contact.objects.count() == 1
    page.click("button[name=_confirm_duplicate]")
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    twin = Contact.objects.get(last_name="Lovelcae")
    assert page.url.endswith(f"/contacts/{twin.pk}/")
    assert DuplicatePair.objects.filter(contact_a=ada, contact_b=twin).exists()
