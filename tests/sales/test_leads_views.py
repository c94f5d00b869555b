"""The lead pages: list, detail, create/edit, status, log, convert, import, settings; as anonymous,
wrong user and right user. User content is escaped."""

from __future__ import annotations

import pytest
from tests.conftest import client_for

from rapport.sales.models import Lead
from rapport.sales.models_leads import AssignmentRule, LeadScoringRule, WebForm
from rapport.sales.services_leads import lead_create, lead_status_set, setup_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(rep):
    return lead_create(actor=rep, data={"first_name": "<script>x</script>", "last_name": "Byron",
                                        "email": "ada@example.org", "company": "Engines", "campaign": "fair"})


def test_anonymous_is_sent_to_login(lead) -> None:
    for url in ("/leads/", f"/leads/{lead.pk}/", "/leads/new/", "/leads/import/", "/leads/settings/scoring/"):
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert client_for(None).post(f"/leads/{lead.pk}/status/", {"status": "contacted"}).status_code == 302
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_list_shows_score_and_filters_and_escapes(rep, lead, other_rep) -> None:
    lead_create(actor=other_rep, data={"email": "hidden@example.org", "company": "Hidden Co"})
    page = client_for(rep).get("/leads/?campaign=fair")
    assert page.status_code == 200
    assert b"&lt;script&gt;x&lt;/script&gt;" in page.content and b"<script>x</script>" not in page.content
    assert b"Hidden Co" not in page.content
    assert client_for(rep).get("/leads/?status=bogus").status_code == 200
    partial = client_for(rep).get("/leads/?status=new", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert b"<html" not in partial.content and b"Engines" in partial.content


def test_detail_is_404_for_other_team(lead, other_rep, rep) -> None:
    assert client_for(other_rep).get(f"/leads/{lead.pk}/").status_code == 404
    assert client_for(rep).get(f"/leads/{lead.pk}/").status_code == 200
    assert client_for(other_rep).post(f"/leads/{lead.pk}/status/", {"status": "contacted"}).status_code == 404
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_detail_explains_the_score(rep, manager, lead) -> None:
    setup_create(actor=manager, model=LeadScoringRule, data={
        "name": "Has a company", "kind": "fit", "field": "company", "operator": "present", "points": 12})
    from rapport.sales.scoring import lead_score_refresh

    lead_score_refresh(lead)
    page = client_for(rep).get(f"/leads/{lead.pk}/").content.decode()
    assert "Has a company: +12" in page and 'id="lead-score">12<' in page


def test_create_form_warns_about_duplicates(rep, lead) -> None:
    response = client_for(rep).post("/leads/new/", {"last_name": "Other", "email": "ADA@example.org"}, follow=True)
    assert response.status_code == 200
    assert b"may already exist" in response.content
    assert Lead.objects.count() == 2
    bad = client_for(rep).post("/leads/new/", {"email": "nope"})
    assert bad.status_code == 200 and b"Not a valid email" in bad.content and Lead.objects.count() == 2


def test_edit_with_stale_version_changes_nothing(rep, lead) -> None:
    client = client_for(rep)
    assert client.post(f"/leads/{lead.pk}/edit/", {"last_name": "New", "email": "ada@example.org",
                                                  "version": 1}).status_code == 302
    stale = client.post(f"/leads/{lead.pk}/edit/", {"last_name": "Stale", "email": "ada@example.org", "version": 1})
    assert stale.status_code == 200 and b"changed since version 1" in stale.content
    assert Lead.objects.get(pk=lead.pk).last_name == "New"


def test_status_log_and_convert_from_the_page(rep, lead, pipeline) -> None:
    client = client_for(rep)
    client.post(f"/leads/{lead.pk}/log/", {"kind": "call", "subject": "Intro", "body": "ok"})
    lead.refresh_from_db()
    assert lead.status == "contacted"
    client.post(f"/leads/{lead.pk}/status/", {"status": "qualified", "version": lead.version})
    page = client.get(f"/leads/{lead.pk}/")
    assert b"Convert lead" in page.content
    lead.refresh_from_db()
    response = client.post(f"/leads/{lead.pk}/convert/", {"version": lead.version, "create_opportunity": "on",
                                                          "amount": "100"})
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert response.status_code == 302 and response["Location"] == f"/contacts/{lead.converted_contact_id}/"
    again = client.post(f"/leads/{lead.pk}/convert/", {"version": lead.version}, follow=True)
    assert b"converted already" in again.content


def test_settings_pages_are_for_managers(rep, manager, teammate, lead) -> None:
    for page in ("scoring", "assignment", "webforms"):
        assert client_for(rep).get(f"/leads/settings/{page}/").status_code == 403
        assert client_for(manager).get(f"/leads/settings/{page}/").status_code == 200
    assert client_for(manager).get("/leads/settings/nope/").status_code == 404
    client = client_for(manager)
    client.post("/leads/settings/assignment/", {"name": "DE", "countries": "DE", "strategy": "user",
                                                "user_id": teammate.pk})
    assert AssignmentRule.objects.get().user == teammate
    client.post("/leads/settings/webforms/", {"name": "Site", "fields": ["email", "company"], "required": ["email"]})
    form = WebForm.objects.get()
    page = client.get("/leads/settings/webforms/").content.decode()
    assert f"/f/{form.public_key}/" in page and "&lt;form" in page  # the snippet is shown as text
    bad = client.post("/leads/settings/scoring/", {"name": "x", "kind": "fit", "field": "salary", "operator": "eq",
                                                   "points": "1"})
    assert bad.status_code == 200 and b"not valid" in bad.content and LeadScoringRule.objects.count() == 0
    assert client_for(rep).post("/leads/settings/scoring/", {"name": "x", "kind": "fit", "field": "company",
                                                             "operator": "present", "points": "1"}).status_code == 403


def test_disqualified_lead_has_no_convert_button(rep, lead) -> None:
    lead_status_set(actor=rep, lead=lead, status="disqualified", reason="spam", expected_version=None)
    page = client_for(rep).get(f"/leads/{lead.pk}/")
    assert b"Convert lead" not in page.content and b"Spam or fake" in page.content
