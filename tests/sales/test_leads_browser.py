"""The lead journey in a real browser: a visitor submits the embedded web-to-lead form on another
site, a territory rule assigns the lead to the rep, the rep finds it, qualifies and converts it."""

from __future__ import annotations

import re

import pytest
from tests.browser.conftest import browser, login, page  # noqa: F401 - the browser fixtures live there
from tests.conftest import PASSWORD

from rapport.sales.models import Lead, Opportunity
from rapport.sales.models_leads import AssignmentRule, WebForm
from rapport.sales.services_leads import setup_create
from rapport.sales.webforms import embed_snippet

pytestmark = pytest.mark.browser


def test_visitor_submits_rep_converts(live_server, transactional_db, page, rep, manager, settings) -> None:  # noqa: F811
    # the default pipeline (migration data) is gone with the transactional flush: make one
    from rapport.sales.models import Pipeline, Stage

    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="Sales", is_default=True)
        Stage.objects.create(pipeline=pipeline, name="Opportunity generated", position=1, probability=5)
    settings.RAPPORT_BASE_URL = live_server.url
    setup_create(actor=manager, model=AssignmentRule, data={
        "name": "France", "countries": "FR", "strategy": "user", "user_id": rep.pk})
    form = setup_create(actor=manager, model=WebForm, data={
        "name": "Site", "fields": ["first_name", "last_name", "email", "company", "country"],
        "required": ["email"], "source": "website", "campaign": "launch", "owner_id": manager.pk,
        "thank_you_text": "Merci, we will call you."})
    # a visitor on the customer's own site (another origin) fills in the pasted snippet
    page.set_content(f"<html><body><h1>Acme site</h1>{embed_snippet(form)}</body></html>")
    page.fill("input[name=first_name]", "Marie")
    page.fill("input[name=last_name]", "Curie")
    page.fill("input[name=email]", "marie@radium.example")
    page.fill("input[name=company]", "Radium SA")
    page.fill("input[name=country]", "FR")
    page.click("button[type=submit]")
    page.locator("#thanks").wait_for()
    assert "Merci" in page.inner_text("#thanks")
    lead = Lead.objects.get(email="marie@radium.example")
    assert lead.owner == rep and (lead.source, lead.campaign) == ("website", "launch")

    # the rep sees it in the list and converts it
    login(page, live_server.url, rep.username, PASSWORD)
    page.goto(f"{live_server.url}/leads/?owner=me")
    page.click("text=Marie Curie")
    page.wait_for_url(re.compile(rf"/leads/{lead.pk}/$"))
    assert "France" in page.inner_text("#timeline")
    page.select_option("select[name=status]", "qualified")
    page.click("text=Set status")
    page.locator("#convert").wait_for()
    page.fill("input[name=amount]", "9000")
    page.click("text=Convert lead")
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    lead.refresh_from_db()
    assert lead.status == "converted" and page.url.endswith(f"/contacts/{lead.converted_contact_id}/")
    assert Opportunity.objects.get().amount == 9000
